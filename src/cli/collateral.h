/* src/cli/collateral.h — loading attestation collateral for `tkms evidence
 * verify` (and the tests) into the named items the verifiers read
 * (src/attest/dcap_collateral.h lists the DCAP names).
 *
 * Two layouts:
 *   a directory: every regular file is one item, named by its file name
 *     without a .pem, .der, .json, .bin or .hex suffix; a .hex file holds hex
 *     text and is decoded;
 *   a JSON file (dcap-qvl's QuoteCollateralV3 as JSON): every top-level string
 *     field is one item; a string made only of hex digits (CRLs, signatures) is
 *     decoded to bytes, any other (PEM chains, the signed TCB info / QE
 *     identity text) is kept byte for byte. */
#ifndef TKMS_CLI_COLLATERAL_H
#define TKMS_CLI_COLLATERAL_H
#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"

#define TKMS_CLI_MAX_ITEMS 32u

typedef struct {
  tkms_attest_item items[TKMS_CLI_MAX_ITEMS];
  char *names[TKMS_CLI_MAX_ITEMS];
  uint8_t *data[TKMS_CLI_MAX_ITEMS];
  tkms_attest_collateral col; /* points at items */
} tkms_cli_collateral;

void tkms_cli_collateral_init(tkms_cli_collateral *c);
void tkms_cli_collateral_free(tkms_cli_collateral *c);
/* Adds a copy of data under name (replacing an item of that name). 0 or -1. */
int tkms_cli_collateral_add(tkms_cli_collateral *c, const char *name, const uint8_t *data,
                            size_t len);
/* A directory or a JSON file, as above. 0, or -1 after printing why on stderr. */
int tkms_cli_collateral_load(tkms_cli_collateral *c, const char *path);
/* The JSON layout from memory. 0 or -1. */
int tkms_cli_collateral_from_json(tkms_cli_collateral *c, const char *text, size_t len);
#endif
