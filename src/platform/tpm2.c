/* src/platform/tpm2.c — the TPM 2.0 platform (tpm2-tss ESYS).
 *
 * What it protects against (DESIGN.md): a stolen disk or backup (the sealed blob
 * opens only inside this TPM) and a tampered boot chain (PCR 0 and 7). Not root
 * on the running host: root can ask the TPM to unseal while the PCRs match, or
 * read the core's memory.
 *
 * TPM connection: the TCTI string in $TKMS_TPM2_TCTI, default
 * "device:/dev/tpmrm0" (the kernel resource manager). Tests use
 * "swtpm:host=127.0.0.1,port=N" (numeric host: a name would make the resolver
 * read /etc/hosts after the sandbox is in force). The "device" TCTI keeps its
 * descriptor open; the "swtpm" TCTI connects once per command, so the sandbox
 * lets this platform create stream sockets and connect them (sandbox_needs).
 * One tkms core per TPM: the core resets PCR 23 and owns the NV indices below.
 *
 * Policy PCRs: SHA-256 bank, PCRs 0 (firmware), 7 (secure boot state) and 23.
 * PCR 23 is resettable at locality 0 (PC Client profile); open() resets it and
 * extends it with the core measurement (tkms_platform_measure_self: the core binary
 * and the shared objects loaded before the TCTI module is dlopen'ed), so PCR 23
 * = SHA-256(0^32 ‖ measurement) while this core runs. That ties the seal key to
 * the core build, as the sim platform's HKDF does; anyone who may talk to the
 * TPM can reset and extend PCR 23 too, so it is a binding, not a secret.
 *
 * Keys (all transient, re-created from the TPM's seeds, flushed after use —
 * swtpm and /dev/tpm0 have no resource manager):
 *   storage primary  owner hierarchy, ECC P-256, AES-128-CFB, restricted decrypt;
 *   attestation key  endorsement hierarchy, ECC P-256, restricted sign,
 *                    ECDSA-SHA256; deterministic, so the same AK on every open.
 *
 * Files in the data directory (created only with --init, never over existing data):
 *   tpm2-seal.pub / tpm2-seal.priv  the TPM2B_PUBLIC and TPM2B_PRIVATE (Tss2_MU
 *   marshalled) of a keyedhash sealed data object under the storage primary,
 *   authPolicy = PolicyPCR(sha256:0,7,23), no userWithAuth: only a policy session
 *   whose PolicyPCR matches the PCRs at init unseals it. The private part is
 *   encrypted by the TPM; the disk holds nothing usable off this TPM.
 *   Sealed data (48 bytes): seal key (32) ‖ base of P (u64 BE) ‖ base of K (u64 BE).
 *   open() unseals once, before the sandbox; a PCR change makes open() refuse.
 *
 * Counters: two NV indices with TPMA_NV_COUNTER at 0x01A7C500 (P) and 0x01A7C501
 * (K), owner range, auth empty. A TPM counter starts, at its first increment, at
 * the highest value any counter in this TPM ever had, so init increments each once
 * and records the raw value as its base in the sealed data (integrity protected
 * by the TPM): the interface value is raw − base, 0 after init. A deleted and
 * re-created index cannot come back lower than before (TPM rule), only higher,
 * which makes the core refuse every stored manifest (denial, not rollback).
 * NV counters only count by one: counter_advance increments until the value is
 * new_value: P at most TKMS_TPM2_MAX_STEP steps, K at most up to P (aborted
 * transactions burn values of P, so K may jump far). A crash in the middle leaves a value between
 * the old and the new one; txn.c accepts that (K never passes the stored manifest's value).
 *
 * Evidence: TPM2_Quote over the policy PCRs, signed by the AK, qualifyingData =
 * SHA-256(report_data) (32 bytes: a TPM with only SHA-256 accepts no more than a
 * SHA-256 digest). Container, big-endian lengths:
 *   "TKMSTPM1" ‖ u16 len ‖ TPMS_ATTEST ‖ u16 len ‖ TPMT_SIGNATURE (Tss2_MU).
 * A verifier needs the AK public key (tkms_tpm2_ak_public_der) and trusts it
 * through the EK certificate chain; that provisioning is outside this file.
 *
 * Time: the host clock. The TPM clock is not wall time and the host can move the
 * system clock: not trusted time (Roughtime comes with issue 5). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <unistd.h>

#include "platform/fileio.h"
#include "platform/platform.h"

#define TCTI_ENV "TKMS_TPM2_TCTI"
#define TCTI_DEFAULT "device:/dev/tpmrm0"
#define SEAL_PUB_FILE "tpm2-seal.pub"
#define SEAL_PRIV_FILE "tpm2-seal.priv"
#define SEALED_BYTES 48u
#define NV_P 0x01A7C500u
#define NV_K 0x01A7C501u
#define BLOB_MAX 4096u

typedef struct {
  uint8_t seal_key[32];
} tpm2_secrets; /* sodium_malloc'd */

typedef struct {
  pthread_mutex_t lock; /* ESYS contexts are not thread-safe */
  TSS2_TCTI_CONTEXT *tcti;
  ESYS_CONTEXT *esys;
  uint8_t measurement[32];
  uint64_t base[TKMS_COUNTERS];
  uint8_t ak_x[32], ak_y[32];
  tpm2_secrets *sec;
} tpm2_ctx;

static const uint32_t nv_index[TKMS_COUNTERS] = {NV_P, NV_K};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t n, const char *fmt,
                                                          ...) {
  if (err == NULL || n == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

/* sha256: PCR 0, 7, 23 (bit i%8 of byte i/8). */
static TPML_PCR_SELECTION policy_pcrs(void) {
  TPML_PCR_SELECTION s;
  memset(&s, 0, sizeof s);
  s.count = 1;
  s.pcrSelections[0].hash = TPM2_ALG_SHA256;
  s.pcrSelections[0].sizeofSelect = 3;
  s.pcrSelections[0].pcrSelect[0] = 0x81; /* PCR 0, PCR 7 */
  s.pcrSelections[0].pcrSelect[2] = 0x80; /* PCR 23 */
  return s;
}

static TPM2B_PUBLIC storage_template(void) {
  TPM2B_PUBLIC t;
  memset(&t, 0, sizeof t);
  TPMT_PUBLIC *p = &t.publicArea;
  p->type = TPM2_ALG_ECC;
  p->nameAlg = TPM2_ALG_SHA256;
  p->objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
                        TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                        TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;
  p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  p->parameters.eccDetail.symmetric.keyBits.aes = 128;
  p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

static TPM2B_PUBLIC ak_template(void) {
  TPM2B_PUBLIC t;
  memset(&t, 0, sizeof t);
  TPMT_PUBLIC *p = &t.publicArea;
  p->type = TPM2_ALG_ECC;
  p->nameAlg = TPM2_ALG_SHA256;
  p->objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
                        TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                        TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;
  p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

static void flush(ESYS_CONTEXT *e, ESYS_TR *h) {
  if (*h != ESYS_TR_NONE) Esys_FlushContext(e, *h);
  *h = ESYS_TR_NONE;
}

static TSS2_RC create_primary(ESYS_CONTEXT *e, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl,
                              ESYS_TR *out, TPM2B_PUBLIC **pub) {
  TPM2B_SENSITIVE_CREATE sens;
  TPM2B_DATA outside;
  TPML_PCR_SELECTION none;
  memset(&sens, 0, sizeof sens);
  memset(&outside, 0, sizeof outside);
  memset(&none, 0, sizeof none);
  return Esys_CreatePrimary(e, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens, tmpl,
                            &outside, &none, out, pub, NULL, NULL, NULL);
}

/* A policy (or trial) session with PolicyPCR over the policy PCRs applied.
 * salt_key != ESYS_TR_NONE: the session is salted with that key and encrypts
 * the response parameter (AES-128-CFB), so what Unseal returns does not cross
 * the TPM bus (or swtpm's socket) in clear. */
static TSS2_RC pcr_policy_session(ESYS_CONTEXT *e, TPM2_SE type, ESYS_TR salt_key,
                                  ESYS_TR *session) {
  TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
  if (salt_key != ESYS_TR_NONE)
    sym = (TPMT_SYM_DEF){
        .algorithm = TPM2_ALG_AES, .keyBits = {.aes = 128}, .mode = {.aes = TPM2_ALG_CFB}};
  TPM2B_DIGEST empty = {.size = 0};
  TPML_PCR_SELECTION pcrs = policy_pcrs();
  *session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(e, salt_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, NULL, type, &sym, TPM2_ALG_SHA256, session);
  if (rc != TSS2_RC_SUCCESS) return rc;
  if (salt_key != ESYS_TR_NONE)
    rc = Esys_TRSess_SetAttributes(e, *session, TPMA_SESSION_ENCRYPT, TPMA_SESSION_ENCRYPT);
  if (rc != TSS2_RC_SUCCESS) {
    flush(e, session);
    return rc;
  }
  rc = Esys_PolicyPCR(e, *session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &pcrs);
  if (rc != TSS2_RC_SUCCESS) flush(e, session);
  return rc;
}

/* Flushes transient objects a killed core left behind (no resource manager on
 * swtpm or /dev/tpm0: they would fill the TPM's few object slots). With
 * /dev/tpmrm0 the list is empty: the kernel shows each client only its own. */
static void flush_stale(ESYS_CONTEXT *e) {
  TPMS_CAPABILITY_DATA *cap = NULL;
  TPMI_YES_NO more = 0;
  if (Esys_GetCapability(e, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                         TKMS_TPM2_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES, &more,
                         &cap) != TSS2_RC_SUCCESS)
    return;
  for (uint32_t i = 0; i < cap->data.handles.count; i++) {
    ESYS_TR h = ESYS_TR_NONE;
    if (Esys_TR_FromTPMPublic(e, cap->data.handles.handle[i], ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, &h) == TSS2_RC_SUCCESS)
      flush(e, &h);
  }
  Esys_Free(cap);
}

static int path_join(char *out, size_t n, const char *dir, const char *file) {
  int r = snprintf(out, n, "%s/%s", dir, file);
  return (r < 0 || (size_t)r >= n) ? -1 : 0;
}

/* Reads a whole small file; 0, 1 (missing) or -1. */
static int read_file(const char *path, uint8_t *buf, size_t cap, size_t *len) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 1 : -1;
  size_t n = 0;
  for (;;) {
    if (n == cap) {
      close(fd);
      return -1; /* larger than any TPM blob */
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  *len = n;
  return 0;
}

static int write_new_file(const char *path, const uint8_t *buf, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      close(fd);
      return -1;
    }
    off += (size_t)w;
  }
  int r = fsync(fd);
  close(fd);
  return r;
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

static void put_u64(uint8_t *b, uint64_t v) {
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t *b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
  return v;
}

/* ---- NV counters ----------------------------------------------------------- */

static TPMA_NV nv_attributes(void) {
  return (TPMA_NV)(TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_AUTHREAD |
         TPMA_NV_AUTHWRITE | TPMA_NV_OWNERREAD | TPMA_NV_OWNERWRITE | TPMA_NV_NO_DA;
}

/* ESYS handle of NV index idx; 1 if it does not exist. */
static int nv_open(ESYS_CONTEXT *e, unsigned idx, ESYS_TR *h, TPMA_NV *attrs) {
  *h = ESYS_TR_NONE;
  if (Esys_TR_FromTPMPublic(e, nv_index[idx], ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, h) !=
      TSS2_RC_SUCCESS)
    return 1;
  TPM2B_NV_PUBLIC *pub = NULL;
  if (Esys_NV_ReadPublic(e, *h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL) !=
      TSS2_RC_SUCCESS) {
    Esys_TR_Close(e, h);
    return -1;
  }
  *attrs = pub->nvPublic.attributes;
  int ok = pub->nvPublic.dataSize == 8 && pub->nvPublic.nameAlg == TPM2_ALG_SHA256;
  Esys_Free(pub);
  if (!ok) Esys_TR_Close(e, h);
  return ok ? 0 : -1;
}

static int nv_define(ESYS_CONTEXT *e, unsigned idx, ESYS_TR *h) {
  TPM2B_AUTH auth = {.size = 0};
  TPM2B_NV_PUBLIC pub;
  memset(&pub, 0, sizeof pub);
  pub.nvPublic.nvIndex = nv_index[idx];
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  pub.nvPublic.attributes = nv_attributes();
  pub.nvPublic.dataSize = 8;
  return Esys_NV_DefineSpace(e, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                             &auth, &pub, h) == TSS2_RC_SUCCESS
             ? 0
             : -1;
}

static TSS2_RC nv_read_raw(ESYS_CONTEXT *e, unsigned idx, uint64_t *v) {
  ESYS_TR h;
  TPMA_NV attrs;
  if (nv_open(e, idx, &h, &attrs) != 0) return TSS2_ESYS_RC_BAD_VALUE;
  TPM2B_MAX_NV_BUFFER *d = NULL;
  TSS2_RC rc = Esys_NV_Read(e, h, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, 8, 0, &d);
  Esys_TR_Close(e, &h);
  if (rc != TSS2_RC_SUCCESS) return rc;
  if (d->size != 8)
    rc = TSS2_ESYS_RC_MALFORMED_RESPONSE;
  else
    *v = get_u64(d->buffer);
  Esys_Free(d);
  return rc;
}

static TSS2_RC nv_increment(ESYS_CONTEXT *e, unsigned idx) {
  ESYS_TR h;
  TPMA_NV attrs;
  if (nv_open(e, idx, &h, &attrs) != 0) return TSS2_ESYS_RC_BAD_VALUE;
  TSS2_RC rc = Esys_NV_Increment(e, h, h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
  Esys_TR_Close(e, &h);
  return rc;
}

/* init: each index exists (defined now or left by an earlier init on this TPM)
 * and has been written; base[i] gets its raw value. */
static int counters_create(ESYS_CONTEXT *e, uint64_t base[TKMS_COUNTERS], char *err, size_t en) {
  for (unsigned i = 0; i < TKMS_COUNTERS; i++) {
    ESYS_TR h;
    TPMA_NV attrs = 0;
    int r = nv_open(e, i, &h, &attrs);
    if (r == 1 && nv_define(e, i, &h) == 0) {
      attrs = nv_attributes();
      r = 0;
    }
    if (r != 0 || (attrs & TPMA_NV_TPM2_NT_MASK) >> TPMA_NV_TPM2_NT_SHIFT != TPM2_NT_COUNTER) {
      if (r == 0) Esys_TR_Close(e, &h);
      set_err(err, en,
              "cannot create the TPM NV counter 0x%08x (it may exist with other attributes, or "
              "the owner hierarchy has a password)",
              nv_index[i]);
      return -1;
    }
    Esys_TR_Close(e, &h);
    TSS2_RC rc = TSS2_RC_SUCCESS;
    if (!(attrs & TPMA_NV_WRITTEN)) rc = nv_increment(e, i);
    if (rc == TSS2_RC_SUCCESS) rc = nv_read_raw(e, i, &base[i]);
    if (rc != TSS2_RC_SUCCESS) {
      set_err(err, en, "cannot initialise the TPM NV counter 0x%08x: %s", nv_index[i],
              Tss2_RC_Decode(rc));
      return -1;
    }
  }
  return 0;
}

/* Reads the logical value of counter idx (raw − base). */
static int counter_get(tpm2_ctx *c, unsigned idx, uint64_t *v) {
  uint64_t raw;
  if (nv_read_raw(c->esys, idx, &raw) != TSS2_RC_SUCCESS || raw < c->base[idx]) return -1;
  *v = raw - c->base[idx];
  return 0;
}

/* ---- sealing ---------------------------------------------------------------- */

/* PCR 23 := SHA-256(0^32 ‖ measurement). */
static TSS2_RC pcr23_set(ESYS_CONTEXT *e, const uint8_t measurement[32]) {
  TSS2_RC rc = Esys_PCR_Reset(e, ESYS_TR_PCR23, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPML_DIGEST_VALUES d;
  memset(&d, 0, sizeof d);
  d.count = 1;
  d.digests[0].hashAlg = TPM2_ALG_SHA256;
  memcpy(d.digests[0].digest.sha256, measurement, 32);
  return Esys_PCR_Extend(e, ESYS_TR_PCR23, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d);
}

/* Creates the sealed object holding secret (SEALED_BYTES) and writes its blobs. */
static int seal_create(ESYS_CONTEXT *e, ESYS_TR primary, const uint8_t *secret,
                       const char *pub_path, const char *priv_path, const char *dir, char *err,
                       size_t en) {
  ESYS_TR trial = ESYS_TR_NONE;
  TPM2B_DIGEST *policy = NULL;
  TPM2B_PRIVATE *priv = NULL;
  TPM2B_PUBLIC *pub = NULL;
  TPM2B_SENSITIVE_CREATE *sens = sodium_malloc(sizeof *sens);
  int ret = -1;
  if (sens == NULL) {
    set_err(err, en, "out of locked memory");
    return -1;
  }
  TSS2_RC rc = pcr_policy_session(e, TPM2_SE_TRIAL, ESYS_TR_NONE, &trial);
  if (rc == TSS2_RC_SUCCESS)
    rc = Esys_PolicyGetDigest(e, trial, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &policy);
  flush(e, &trial);
  if (rc != TSS2_RC_SUCCESS) {
    set_err(err, en, "cannot compute the PCR policy: %s", Tss2_RC_Decode(rc));
    goto out;
  }
  TPM2B_PUBLIC tmpl;
  memset(&tmpl, 0, sizeof tmpl);
  tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  /* no USERWITHAUTH: the policy is the only way in */
  tmpl.publicArea.objectAttributes =
      TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA;
  tmpl.publicArea.authPolicy = *policy;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  memset(sens, 0, sizeof *sens);
  sens->sensitive.data.size = SEALED_BYTES;
  memcpy(sens->sensitive.data.buffer, secret, SEALED_BYTES);
  TPM2B_DATA outside = {.size = 0};
  TPML_PCR_SELECTION none;
  memset(&none, 0, sizeof none);
  rc = Esys_Create(e, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, sens, &tmpl, &outside,
                   &none, &priv, &pub, NULL, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    set_err(err, en, "the TPM could not create the sealed object: %s", Tss2_RC_Decode(rc));
    goto out;
  }
  uint8_t buf[BLOB_MAX];
  size_t off = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof buf, &off) != TSS2_RC_SUCCESS ||
      write_new_file(pub_path, buf, off) != 0) {
    set_err(err, en, "cannot write %s: %s", pub_path, strerror(errno));
    goto out;
  }
  off = 0;
  if (Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof buf, &off) != TSS2_RC_SUCCESS ||
      write_new_file(priv_path, buf, off) != 0 || fsync_dir(dir) != 0) {
    set_err(err, en, "cannot write %s: %s", priv_path, strerror(errno));
    unlink(pub_path);
    goto out;
  }
  ret = 0;
out:
  sodium_free(sens);
  Esys_Free(policy);
  Esys_Free(priv);
  Esys_Free(pub);
  return ret;
}

/* Loads the sealed object and unseals it into secret (SEALED_BYTES, locked). */
static int seal_open(ESYS_CONTEXT *e, ESYS_TR primary, const char *pub_path, const char *priv_path,
                     uint8_t *secret, char *err, size_t en) {
  uint8_t buf[BLOB_MAX];
  size_t len = 0, off = 0;
  TPM2B_PUBLIC pub;
  TPM2B_PRIVATE priv;
  memset(&pub, 0, sizeof pub); /* Tss2_MU refuses a TPM2B whose size is not 0 */
  memset(&priv, 0, sizeof priv);
  if (read_file(pub_path, buf, sizeof buf, &len) != 0 ||
      Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &pub) != TSS2_RC_SUCCESS || off != len) {
    set_err(err, en, "%s is unreadable or not a TPM2B_PUBLIC; restore it from backup", pub_path);
    return -1;
  }
  off = 0;
  if (read_file(priv_path, buf, sizeof buf, &len) != 0 ||
      Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, len, &off, &priv) != TSS2_RC_SUCCESS || off != len) {
    set_err(err, en, "%s is unreadable or not a TPM2B_PRIVATE; restore it from backup", priv_path);
    return -1;
  }
  ESYS_TR item = ESYS_TR_NONE, session = ESYS_TR_NONE;
  TSS2_RC rc =
      Esys_Load(e, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &item);
  if (rc != TSS2_RC_SUCCESS) {
    set_err(err, en,
            "the TPM refused to load the sealed object in %s (%s): it was made by another TPM, "
            "or this TPM's owner hierarchy was cleared since --init",
            priv_path, Tss2_RC_Decode(rc));
    return -1;
  }
  TPM2B_SENSITIVE_DATA *out = NULL;
  rc = pcr_policy_session(e, TPM2_SE_POLICY, primary, &session);
  if (rc == TSS2_RC_SUCCESS) rc = Esys_Unseal(e, item, session, ESYS_TR_NONE, ESYS_TR_NONE, &out);
  flush(e, &session);
  flush(e, &item);
  /* ESYS keeps the last response in its own (unlocked) heap buffer: overwrite it
   * with a longer response than the unsealed one. */
  TPM2B_DIGEST *noise = NULL;
  if (Esys_GetRandom(e, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 64, &noise) == TSS2_RC_SUCCESS)
    Esys_Free(noise);
  if (rc != TSS2_RC_SUCCESS) {
    set_err(err, en,
            "the TPM refused to unseal the sealing key (%s): the policy PCRs sha256:0,7,23 differ "
            "from when it was sealed at --init. PCR 0/7 change with firmware or secure boot, "
            "PCR 23 holds the core measurement, so another core build or another boot chain "
            "cannot unseal. Boot the measured configuration and core the key was sealed to.",
            Tss2_RC_Decode(rc));
    return -1;
  }
  unsigned got = out->size;
  if (got == SEALED_BYTES) memcpy(secret, out->buffer, SEALED_BYTES);
  sodium_memzero(out, sizeof *out);
  Esys_Free(out);
  int ok = got == SEALED_BYTES;
  if (!ok) set_err(err, en, "the sealed object holds %u bytes, not %u", got, SEALED_BYTES);
  return ok ? 0 : -1;
}

/* ---- the platform ops ------------------------------------------------------ */

static void tpm2_close(void *vctx) {
  tpm2_ctx *c = vctx;
  if (c == NULL) return;
  if (c->esys != NULL) Esys_Finalize(&c->esys);
  if (c->tcti != NULL) Tss2_TctiLdr_Finalize(&c->tcti);
  pthread_mutex_destroy(&c->lock);
  sodium_free(c->sec);
  sodium_memzero(c, sizeof *c);
  free(c);
}

static int tpm2_open(const tkms_platform_cfg *cfg, void **outp, char *err, size_t en) {
  if (cfg == NULL || cfg->data_dir == NULL || outp == NULL) return -1;
  if (sodium_init() < 0) return -1;
  tpm2_ctx *c = calloc(1, sizeof *c);
  if (c == NULL) return -1;
  pthread_mutex_init(&c->lock, NULL);
  uint8_t *secret = sodium_malloc(SEALED_BYTES);
  c->sec = sodium_malloc(sizeof *c->sec);
  ESYS_TR primary = ESYS_TR_NONE, ak = ESYS_TR_NONE;
  TPM2B_PUBLIC *akpub = NULL;
  if (secret == NULL || c->sec == NULL) {
    set_err(err, en, "out of locked memory");
    goto fail;
  }
  struct stat st;
  if (stat(cfg->data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    set_err(err, en, "data directory %s does not exist", cfg->data_dir);
    goto fail;
  }
  if (tkms_platform_measure_self(cfg->exe_path, c->measurement, NULL, 0, NULL, err, en) != 0) {
    goto fail;
  }
  char pub_path[PATH_MAX], priv_path[PATH_MAX];
  if (path_join(pub_path, sizeof pub_path, cfg->data_dir, SEAL_PUB_FILE) != 0 ||
      path_join(priv_path, sizeof priv_path, cfg->data_dir, SEAL_PRIV_FILE) != 0) {
    set_err(err, en, "data directory path too long: %s", cfg->data_dir);
    goto fail;
  }
  int have_pub = access(pub_path, F_OK) == 0, have_priv = access(priv_path, F_OK) == 0;
  if (have_pub != have_priv) {
    set_err(err, en, "%s is missing while %s exists; restore both from backup",
            have_pub ? priv_path : pub_path, have_pub ? pub_path : priv_path);
    goto fail;
  }
  if (!have_pub && !cfg->init) {
    set_err(err, en,
            "%s is missing and --init was not given: the TPM-sealed key of this data directory "
            "was lost or the directory was never initialised. Restore the file from backup; tkms "
            "never creates a new identity over existing data.",
            pub_path);
    goto fail;
  }

  const char *conf = getenv(TCTI_ENV);
  if (conf == NULL || conf[0] == '\0') conf = TCTI_DEFAULT;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(conf, &c->tcti);
  if (rc == TSS2_RC_SUCCESS) rc = Esys_Initialize(&c->esys, c->tcti, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    set_err(err, en, "cannot reach the TPM through TCTI \"%s\" (set %s): %s", conf, TCTI_ENV,
            Tss2_RC_Decode(rc));
    goto fail;
  }
  flush_stale(c->esys);
  rc = pcr23_set(c->esys, c->measurement);
  if (rc != TSS2_RC_SUCCESS) {
    set_err(err, en, "cannot reset and extend PCR 23 with the core measurement: %s",
            Tss2_RC_Decode(rc));
    goto fail;
  }
  TPM2B_PUBLIC stmpl = storage_template();
  rc = create_primary(c->esys, ESYS_TR_RH_OWNER, &stmpl, &primary, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    set_err(err, en, "cannot create the TPM storage primary key: %s", Tss2_RC_Decode(rc));
    goto fail;
  }
  if (!have_pub) {
    uint64_t base[TKMS_COUNTERS];
    if (counters_create(c->esys, base, err, en) != 0) goto fail;
    randombytes_buf(secret, 32);
    put_u64(secret + 32, base[0]);
    put_u64(secret + 40, base[1]);
    if (seal_create(c->esys, primary, secret, pub_path, priv_path, cfg->data_dir, err, en) != 0)
      goto fail;
  }
  /* Also right after creating: proves the blobs on disk unseal. */
  if (seal_open(c->esys, primary, pub_path, priv_path, secret, err, en) != 0) goto fail;
  flush(c->esys, &primary);
  memcpy(c->sec->seal_key, secret, 32);
  c->base[0] = get_u64(secret + 32);
  c->base[1] = get_u64(secret + 40);

  uint64_t v[TKMS_COUNTERS];
  for (unsigned i = 0; i < TKMS_COUNTERS; i++) {
    if (counter_get(c, i, &v[i]) != 0) {
      set_err(err, en,
              "the TPM NV counter 0x%08x is missing or below the value recorded at --init: it was "
              "deleted or the TPM was cleared; refusing to guess the rollback state",
              nv_index[i]);
      goto fail;
    }
  }
  if (v[TKMS_COUNTER_COMMITTED] > v[TKMS_COUNTER_PREPARED]) {
    set_err(err, en,
            "the TPM counters are inconsistent (committed %llu ahead of prepared %llu); refusing "
            "to guess",
            (unsigned long long)v[1], (unsigned long long)v[0]);
    goto fail;
  }
  TPM2B_PUBLIC atmpl = ak_template();
  rc = create_primary(c->esys, ESYS_TR_RH_ENDORSEMENT, &atmpl, &ak, &akpub);
  if (rc != TSS2_RC_SUCCESS || akpub->publicArea.unique.ecc.x.size != 32 ||
      akpub->publicArea.unique.ecc.y.size != 32) {
    set_err(err, en, "cannot create the TPM attestation key: %s", Tss2_RC_Decode(rc));
    goto fail;
  }
  memcpy(c->ak_x, akpub->publicArea.unique.ecc.x.buffer, 32);
  memcpy(c->ak_y, akpub->publicArea.unique.ecc.y.buffer, 32);
  Esys_Free(akpub);
  flush(c->esys, &ak);
  sodium_free(secret);
  *outp = c;
  return 0;
fail:
  if (c->esys != NULL) {
    flush(c->esys, &primary);
    flush(c->esys, &ak);
  }
  Esys_Free(akpub);
  sodium_free(secret);
  tpm2_close(c);
  return -1;
}

static void tpm2_measurement(void *vctx, uint8_t out[32]) {
  memcpy(out, ((tpm2_ctx *)vctx)->measurement, 32);
}

static int tpm2_seal_key(void *vctx, uint8_t key[32]) {
  memcpy(key, ((tpm2_ctx *)vctx)->sec->seal_key, 32);
  return 0;
}

static void put_u16(uint8_t *b, size_t v) {
  b[0] = (uint8_t)(v >> 8);
  b[1] = (uint8_t)v;
}

static int tpm2_evidence(void *vctx, const uint8_t report_data[64], uint8_t *out, size_t cap,
                         size_t *out_len) {
  tpm2_ctx *c = vctx;
  TPM2B_DATA q = {.size = 32};
  crypto_hash_sha256(q.buffer, report_data, 64);
  TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_ECDSA};
  scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  TPML_PCR_SELECTION pcrs = policy_pcrs();
  TPM2B_ATTEST *att = NULL;
  TPMT_SIGNATURE *sig = NULL;
  ESYS_TR ak = ESYS_TR_NONE;
  TPM2B_PUBLIC atmpl = ak_template();
  int ret = -1;
  pthread_mutex_lock(&c->lock);
  TSS2_RC rc = create_primary(c->esys, ESYS_TR_RH_ENDORSEMENT, &atmpl, &ak, NULL);
  if (rc == TSS2_RC_SUCCESS)
    rc = Esys_Quote(c->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &q, &scheme, &pcrs,
                    &att, &sig);
  flush(c->esys, &ak);
  pthread_mutex_unlock(&c->lock);
  if (rc != TSS2_RC_SUCCESS) goto out;
  uint8_t sbuf[sizeof(TPMT_SIGNATURE)];
  size_t slen = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sbuf, sizeof sbuf, &slen) != TSS2_RC_SUCCESS) goto out;
  size_t need = TKMS_TPM2_EVIDENCE_MAGIC_BYTES + 2 + att->size + 2 + slen;
  if (need > cap) goto out;
  uint8_t *p = out;
  memcpy(p, TKMS_TPM2_EVIDENCE_MAGIC, TKMS_TPM2_EVIDENCE_MAGIC_BYTES);
  p += TKMS_TPM2_EVIDENCE_MAGIC_BYTES;
  put_u16(p, att->size);
  memcpy(p + 2, att->attestationData, att->size);
  p += 2 + att->size;
  put_u16(p, slen);
  memcpy(p + 2, sbuf, slen);
  *out_len = need;
  ret = 0;
out:
  Esys_Free(att);
  Esys_Free(sig);
  return ret;
}

static int tpm2_counter_read(void *vctx, unsigned idx, uint64_t *value) {
  tpm2_ctx *c = vctx;
  if (idx >= TKMS_COUNTERS) return -1;
  pthread_mutex_lock(&c->lock);
  int r = counter_get(c, idx, value);
  pthread_mutex_unlock(&c->lock);
  return r;
}

static int tpm2_counter_advance(void *vctx, unsigned idx, uint64_t new_value) {
  tpm2_ctx *c = vctx;
  if (idx >= TKMS_COUNTERS) return -1;
  uint64_t cur;
  int r = -1;
  pthread_mutex_lock(&c->lock);
  if (counter_get(c, idx, &cur) != 0 || new_value <= cur) goto out;
  /* P moves one value per prepared transaction, so a long jump of P is a bug.
   * K follows the manifest, which may be any number of aborted transactions
   * ahead; its bound is P (K <= P, txn.c). A step cap on K would make a run of
   * more than that many aborts (a full disk, a hostile host) brick the service. */
  if (idx == TKMS_COUNTER_PREPARED && new_value - cur > TKMS_TPM2_MAX_STEP) goto out;
  if (idx == TKMS_COUNTER_COMMITTED) {
    uint64_t p;
    if (counter_get(c, TKMS_COUNTER_PREPARED, &p) != 0 || new_value > p) goto out;
  }
  /* TPM2_NV_Increment is durable when it returns (the counter is not orderly). */
  while (cur < new_value) {
    if (nv_increment(c->esys, idx) != TSS2_RC_SUCCESS || counter_get(c, idx, &cur) != 0) goto out;
  }
  r = cur == new_value ? 0 : -1;
out:
  pthread_mutex_unlock(&c->lock);
  return r;
}

int tkms_tpm2_ak_public_der(void *vctx, uint8_t *out, size_t cap, size_t *len) {
  /* SubjectPublicKeyInfo { id-ecPublicKey, prime256v1 } BIT STRING 04‖X‖Y */
  static const uint8_t prefix[26] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
  tpm2_ctx *c = vctx;
  if (c == NULL || out == NULL || len == NULL || cap < TKMS_TPM2_AK_DER_BYTES) return -1;
  memcpy(out, prefix, sizeof prefix);
  out[26] = 0x04;
  memcpy(out + 27, c->ak_x, 32);
  memcpy(out + 59, c->ak_y, 32);
  *len = TKMS_TPM2_AK_DER_BYTES;
  return 0;
}

const tkms_platform_ops tkms_platform_tpm2 = {
    .name = "tpm2",
    .simulated = 0,
    .time_source = "host clock (tpm2: not trusted time; Roughtime comes with issue 5)",
    .sandbox_needs = TKMS_SANDBOX_TPM_IO,
    .open = tpm2_open,
    .close = tpm2_close,
    .measurement = tpm2_measurement,
    .seal_key = tpm2_seal_key,
    .evidence = tpm2_evidence,
    .counter_read = tpm2_counter_read,
    .counter_advance = tpm2_counter_advance,
    .now = tkms_platform_host_now,
};
