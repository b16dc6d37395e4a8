/* src/cli/account.c — development account files; see account.h.
 *
 * File format (JSON, mode 0600):
 *   {"type":"secp256k1","address":"0x…","private_key":"0x<32 bytes>","warning":"…"}
 *   {"type":"ed25519","public_key":"0x…","private_key":"0x<32-byte seed>","warning":"…"}
 * The Ed25519 private key is the RFC 8032 seed, the form other tools import. */
#include "cli/account.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/files.h"
#include "crypto/keccak.h"
#include "crypto/secp256k1_eth.h"
#include "proto/hex.h"

#define WARNING "development key: not for production"
/* An account file is a few hundred bytes; anything much larger is not one. */
#define ACCOUNT_FILE_MAX 4096u

int tkms_cli_account_type_parse(const char *s, tkms_cli_account_type *t) {
  if (s != NULL && strcmp(s, "secp256k1") == 0) {
    *t = TKMS_CLI_ACCOUNT_SECP256K1;
    return 0;
  }
  if (s != NULL && strcmp(s, "ed25519") == 0) {
    *t = TKMS_CLI_ACCOUNT_ED25519;
    return 0;
  }
  return -1;
}

static const char *type_name(tkms_cli_account_type t) {
  return t == TKMS_CLI_ACCOUNT_ED25519 ? "ed25519" : "secp256k1";
}

static size_t secret_len(tkms_cli_account_type t) {
  return t == TKMS_CLI_ACCOUNT_ED25519 ? crypto_sign_SECRETKEYBYTES : TKMS_SECP_SK_BYTES;
}

/* Fills the public parts of a from its secret (and, for Ed25519, a 32-byte seed). */
static int derive_public(tkms_cli_account *a, const uint8_t *seed) {
  char hex[2 * 32 + 3];
  if (a->type == TKMS_CLI_ACCOUNT_SECP256K1) {
    uint8_t pub65[TKMS_SECP_PUB65_BYTES];
    if (tkms_secp_sk_check(a->secret) != 0 ||
        tkms_secp_pubkey(a->secret, a->public_key, pub65) != 0) {
      fprintf(stderr, "tkms: not a valid secp256k1 private key\n");
      return -1;
    }
    a->public_key_len = TKMS_SECP_PUB33_BYTES;
    tkms_eth_address(pub65, a->address);
    tkms_hex_encode(a->address, sizeof a->address, hex);
    snprintf(a->principal, sizeof a->principal, "eoa:%s", hex);
  } else {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    if (crypto_sign_seed_keypair(pk, a->secret, seed) != 0) {
      fprintf(stderr, "tkms: cannot derive the Ed25519 key pair\n");
      return -1;
    }
    memcpy(a->public_key, pk, sizeof pk);
    a->public_key_len = sizeof pk;
    tkms_hex_encode(pk, sizeof pk, hex);
    snprintf(a->principal, sizeof a->principal, "ed25519:%s", hex);
  }
  snprintf(a->display, sizeof a->display, "%s", hex);
  return 0;
}

static int alloc_secret(tkms_cli_account *a, tkms_cli_account_type t) {
  memset(a, 0, sizeof *a);
  a->type = t;
  a->secret = sodium_malloc(secret_len(t));
  if (a->secret == NULL) {
    fprintf(stderr, "tkms: cannot allocate protected memory for the key\n");
    return -1;
  }
  return 0;
}

int tkms_cli_account_generate(tkms_cli_account_type t, tkms_cli_account *a) {
  if (alloc_secret(a, t) != 0) return -1;
  int rc;
  if (t == TKMS_CLI_ACCOUNT_SECP256K1) {
    rc = tkms_secp_keygen(a->secret) == 0 ? derive_public(a, NULL) : -1;
  } else {
    uint8_t seed[crypto_sign_SEEDBYTES];
    randombytes_buf(seed, sizeof seed);
    rc = derive_public(a, seed);
    sodium_memzero(seed, sizeof seed);
  }
  if (rc != 0) {
    fprintf(stderr, "tkms: key generation failed\n");
    tkms_cli_account_free(a);
  }
  return rc;
}

int tkms_cli_account_save(const tkms_cli_account *a, const char *path) {
  /* The private key is formatted by hand into a buffer we wipe, rather than
   * through a JSON library whose buffers we do not control. All other fields
   * are hex or fixed ASCII, so no escaping is needed. */
  char sk_hex[2 * 32 + 3];
  char pub_hex[2 * 32 + 3];
  char text[512];
  const uint8_t *sk = a->secret; /* ed25519: the first 32 bytes of libsodium's sk are the seed */
  tkms_hex_encode(sk, 32, sk_hex);
  int n;
  if (a->type == TKMS_CLI_ACCOUNT_SECP256K1) {
    tkms_hex_encode(a->address, sizeof a->address, pub_hex);
    n = snprintf(text, sizeof text,
                 "{\n  \"type\": \"%s\",\n  \"address\": \"%s\",\n  \"private_key\": \"%s\",\n"
                 "  \"warning\": \"%s\"\n}\n",
                 type_name(a->type), pub_hex, sk_hex, WARNING);
  } else {
    tkms_hex_encode(a->public_key, a->public_key_len, pub_hex);
    n = snprintf(text, sizeof text,
                 "{\n  \"type\": \"%s\",\n  \"public_key\": \"%s\",\n  \"private_key\": \"%s\",\n"
                 "  \"warning\": \"%s\"\n}\n",
                 type_name(a->type), pub_hex, sk_hex, WARNING);
  }
  sodium_memzero(sk_hex, sizeof sk_hex);
  int rc = -1;
  if (n > 0 && (size_t)n < sizeof text) {
    int fd = tkms_cli_file_create(path, 0600);
    if (fd >= 0) rc = tkms_cli_file_finish(fd, path, text, (size_t)n);
  }
  sodium_memzero(text, sizeof text);
  return rc;
}

/* ssh refuses keys others can read; for a development key a warning is enough. */
static void warn_if_exposed(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
    fprintf(stderr, "tkms: warning: %s is readable by other users (mode %03o); use chmod 600\n",
            path, (unsigned)(st.st_mode & 0777));
}

int tkms_cli_account_load(const char *path, tkms_cli_account *a) {
  memset(a, 0, sizeof *a);
  uint8_t *buf = NULL;
  size_t len = 0;
  if (tkms_cli_file_read(path, ACCOUNT_FILE_MAX, &buf, &len) != 0) return -1;
  warn_if_exposed(path);

  /* main() installs a jansson allocator that wipes memory on free, so the parsed
   * private-key string does not linger either. */
  json_error_t err;
  json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
  sodium_memzero(buf, len);
  free(buf);
  if (root == NULL) {
    fprintf(stderr, "tkms: %s is not an account file: line %d: %s\n", path, err.line, err.text);
    return -1;
  }

  int rc = -1;
  uint8_t seed[32] = {0};
  const char *type = NULL, *sk_hex = NULL, *addr_hex = NULL, *pub_hex = NULL;
  tkms_cli_account_type t;
  if (json_unpack_ex(root, &err, 0, "{s:s, s:s, s?s, s?s}", "type", &type, "private_key", &sk_hex,
                     "address", &addr_hex, "public_key", &pub_hex) != 0 ||
      tkms_cli_account_type_parse(type, &t) != 0) {
    fprintf(stderr, "tkms: %s is not an account file (need \"type\" and \"private_key\")\n", path);
    goto out;
  }
  if (alloc_secret(a, t) != 0) goto out;

  if (tkms_hex_decode_exact(sk_hex, seed, sizeof seed) != 0) {
    fprintf(stderr, "tkms: %s: \"private_key\" must be 0x + 64 hex digits\n", path);
    goto wipe;
  }
  if (t == TKMS_CLI_ACCOUNT_SECP256K1) memcpy(a->secret, seed, sizeof seed);
  if (derive_public(a, seed) != 0) goto wipe;

  /* The stored public half must match: a mismatch means a corrupted or edited
   * file, and signing with it would authorise a principal the user did not expect. */
  if (t == TKMS_CLI_ACCOUNT_SECP256K1 && addr_hex != NULL) {
    uint8_t addr[20];
    if (tkms_hex_decode_exact(addr_hex, addr, sizeof addr) != 0 ||
        memcmp(addr, a->address, sizeof addr) != 0) {
      fprintf(stderr, "tkms: %s: \"address\" does not match the private key\n", path);
      goto wipe;
    }
  }
  if (t == TKMS_CLI_ACCOUNT_ED25519 && pub_hex != NULL) {
    uint8_t pk[32];
    if (tkms_hex_decode_exact(pub_hex, pk, sizeof pk) != 0 ||
        memcmp(pk, a->public_key, sizeof pk) != 0) {
      fprintf(stderr, "tkms: %s: \"public_key\" does not match the private key\n", path);
      goto wipe;
    }
  }
  rc = 0;
wipe:
  if (rc != 0) tkms_cli_account_free(a);
out:
  sodium_memzero(seed, sizeof seed);
  json_decref(root);
  return rc;
}

int tkms_cli_account_sign(const tkms_cli_account *a,
                          const uint8_t preimage[TKMS_EIP712_PREIMAGE_BYTES],
                          uint8_t sig[TKMS_CLI_ACCOUNT_SIG_MAX], size_t *sig_len) {
  if (a->secret == NULL) return -1;
  if (a->type == TKMS_CLI_ACCOUNT_SECP256K1) {
    uint8_t digest[TKMS_KECCAK256_BYTES];
    tkms_keccak256(preimage, TKMS_EIP712_PREIMAGE_BYTES, digest);
    if (tkms_secp_sign(a->secret, digest, sig) != 0) {
      fprintf(stderr, "tkms: secp256k1 signing failed\n");
      return -1;
    }
    *sig_len = TKMS_SECP_SIG_BYTES;
    return 0;
  }
  unsigned long long n = 0;
  if (crypto_sign_detached(sig, &n, preimage, TKMS_EIP712_PREIMAGE_BYTES, a->secret) != 0 ||
      n != crypto_sign_BYTES) {
    fprintf(stderr, "tkms: Ed25519 signing failed\n");
    return -1;
  }
  *sig_len = crypto_sign_BYTES;
  return 0;
}

void tkms_cli_account_free(tkms_cli_account *a) {
  if (a->secret != NULL) sodium_free(a->secret); /* sodium_free wipes before unmapping */
  memset(a, 0, sizeof *a);
}
