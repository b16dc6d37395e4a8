/* src/cli/mac_session.c — MAC session key pairs, their files and their MACs;
 * see mac_session.h. */
#include "cli/mac_session.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/files.h"
#include "crypto/kdf.h"
#include "proto/hex.h"

#define SESSION_FILE_MAX 4096u
#define MAC_INFO "tkms-session-mac-v1"
#define SECRET_BYTES 64u /* X25519 secret || MAC key */
#define WARNING                                                                       \
  "MAC session secret: whoever reads this file can use the session until it expires " \
  "or is revoked"

static int alloc_secret(tkms_cli_mac_session *s) {
  memset(s, 0, sizeof *s);
  s->secret = sodium_malloc(SECRET_BYTES);
  if (s->secret == NULL) {
    fprintf(stderr, "tkms: cannot allocate protected memory for the session key\n");
    return -1;
  }
  return 0;
}

static void set_public(tkms_cli_mac_session *s) {
  char hex[2 * 32 + 3];
  tkms_hex_encode(s->pub, 32, hex);
  snprintf(s->principal, sizeof s->principal, "x25519:%s", hex);
}

int tkms_cli_mac_session_generate(tkms_cli_mac_session *s) {
  if (alloc_secret(s) != 0) return -1;
  randombytes_buf(s->secret, 32);
  if (crypto_scalarmult_base(s->pub, s->secret) != 0) {
    fprintf(stderr, "tkms: X25519 key generation failed\n");
    tkms_cli_mac_session_free(s);
    return -1;
  }
  set_public(s);
  return 0;
}

int tkms_cli_mac_session_bind(tkms_cli_mac_session *s, const uint8_t core_pub[32],
                              const uint8_t salt[32]) {
  uint8_t shared[crypto_scalarmult_BYTES], info[sizeof MAC_INFO - 1 + 64];
  memcpy(s->core_pub, core_pub, 32);
  memcpy(s->salt, salt, 32);
  if (crypto_scalarmult(shared, s->secret, core_pub) != 0) {
    sodium_memzero(shared, sizeof shared);
    fprintf(stderr, "tkms: the service's session_x25519 key is of low order: not a core's key\n");
    return -1;
  }
  memcpy(info, MAC_INFO, sizeof MAC_INFO - 1);
  memcpy(info + sizeof MAC_INFO - 1, core_pub, 32);
  memcpy(info + sizeof MAC_INFO - 1 + 32, s->pub, 32);
  int rc = tkms_hkdf_sha256(salt, 32, shared, sizeof shared, info, sizeof info, s->secret + 32, 32);
  sodium_memzero(shared, sizeof shared);
  if (rc != 0) fprintf(stderr, "tkms: deriving the MAC key failed\n");
  return rc;
}

int tkms_cli_mac_session_save(const tkms_cli_mac_session *s, int fd, const char *path) {
  /* Formatted by hand into a buffer that is wiped, like account files. */
  char sk[2 * 32 + 3], core[2 * 32 + 3], salt[2 * 32 + 3], sid[2 * 16 + 3], text[1024];
  tkms_hex_encode(s->secret, 32, sk);
  tkms_hex_encode(s->core_pub, 32, core);
  tkms_hex_encode(s->salt, 32, salt);
  tkms_hex_encode(s->session_id, 16, sid);
  int n = snprintf(text, sizeof text,
                   "{\n  \"type\": \"mac-session\",\n  \"session_id\": \"%s\",\n"
                   "  \"session_key\": \"%s\",\n  \"private_key\": \"%s\",\n"
                   "  \"session_x25519\": \"%s\",\n  \"deployment\": \"%s\",\n"
                   "  \"expiry\": %llu,\n  \"warning\": \"%s\"\n}\n",
                   sid, s->principal, sk, core, salt, (unsigned long long)s->expiry, WARNING);
  sodium_memzero(sk, sizeof sk);
  int rc = -1;
  if (n > 0 && (size_t)n < sizeof text) {
    rc = tkms_cli_file_finish(fd, path, text, (size_t)n);
  } else {
    fprintf(stderr, "tkms: internal: session file too long\n");
    close(fd);
    unlink(path);
  }
  sodium_memzero(text, sizeof text);
  return rc;
}

static int hex_field(json_t *root, const char *name, uint8_t *out, size_t n, const char *path) {
  const char *v = json_string_value(json_object_get(root, name));
  if (v == NULL || tkms_hex_decode_exact(v, out, n) != 0) {
    fprintf(stderr, "tkms: %s: \"%s\" must be 0x + %zu hex digits\n", path, name, 2 * n);
    return -1;
  }
  return 0;
}

int tkms_cli_mac_session_load(const char *path, tkms_cli_mac_session *s) {
  uint8_t *buf = NULL;
  size_t len = 0;
  if (alloc_secret(s) != 0) return -1;
  if (tkms_cli_file_read(path, SESSION_FILE_MAX, &buf, &len) != 0) {
    tkms_cli_mac_session_free(s);
    return -1;
  }
  struct stat st;
  if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
    fprintf(stderr, "tkms: warning: %s is readable by other users (mode %03o); use chmod 600\n",
            path, (unsigned)(st.st_mode & 0777));
  json_error_t err;
  json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
  sodium_memzero(buf, len);
  free(buf);
  int rc = -1;
  uint8_t core[32], salt[32], pub[32];
  const char *type = json_string_value(json_object_get(root, "type"));
  const char *key = json_string_value(json_object_get(root, "session_key"));
  json_t *exp = json_object_get(root, "expiry");
  if (root == NULL || type == NULL || strcmp(type, "mac-session") != 0) {
    fprintf(stderr, "tkms: %s is not a MAC session file (tkms session open --mac)\n", path);
  } else if (hex_field(root, "private_key", s->secret, 32, path) == 0 &&
             hex_field(root, "session_id", s->session_id, 16, path) == 0 &&
             hex_field(root, "session_x25519", core, 32, path) == 0 &&
             hex_field(root, "deployment", salt, 32, path) == 0) {
    /* The stored public key must be the secret's: a file edited by hand is refused
     * here rather than by the service. */
    if (crypto_scalarmult_base(pub, s->secret) != 0) {
      fprintf(stderr, "tkms: %s: bad private key\n", path);
    } else {
      memcpy(s->pub, pub, 32);
      set_public(s);
      if (key == NULL || strcmp(key, s->principal) != 0)
        fprintf(stderr, "tkms: %s: session_key does not match private_key\n", path);
      else if (tkms_cli_mac_session_bind(s, core, salt) == 0)
        rc = 0;
    }
    if (json_is_integer(exp)) s->expiry = (uint64_t)json_integer_value(exp);
  }
  json_decref(root);
  if (rc != 0) tkms_cli_mac_session_free(s);
  return rc;
}

static int set_hex(json_t *body, const char *key, const uint8_t *b, size_t n) {
  char hex[2 * 32 + 3];
  if (n > 32) return -1;
  tkms_hex_encode(b, n, hex);
  return json_object_set_new(body, key, json_string(hex));
}

int tkms_cli_mac_session_sign(const tkms_cli_mac_session *s, const tkms_cli_envelope *e, int rt,
                              const tkms_cli_value *vals, size_t n, json_t *body) {
  uint8_t preimage[TKMS_EIP712_PREIMAGE_BYTES], digest[32], mac[crypto_auth_hmacsha256_BYTES];
  if (memcmp(e->salt, s->salt, 32) != 0) {
    fprintf(stderr, "tkms: the session was opened for another deployment\n");
    return -1;
  }
  if (tkms_cli_typed_digest(e->salt, rt, vals, n, preimage, digest) != 0) return -1;
  crypto_auth_hmacsha256(mac, digest, sizeof digest, s->secret + 32);
  if (e->deadline > (uint64_t)INT64_MAX) return -1;
  if (set_hex(body, "request_id", e->request_id, sizeof e->request_id) != 0 ||
      json_object_set_new(body, "deadline", json_integer((json_int_t)e->deadline)) != 0 ||
      set_hex(body, "deployment", e->salt, sizeof e->salt) != 0 ||
      set_hex(body, "session_id", s->session_id, sizeof s->session_id) != 0 ||
      set_hex(body, "signature", mac, sizeof mac) != 0) {
    fprintf(stderr, "tkms: out of memory\n");
    return -1;
  }
  return 0;
}

void tkms_cli_mac_session_free(tkms_cli_mac_session *s) {
  if (s->secret != NULL) sodium_free(s->secret); /* zeroises */
  memset(s, 0, sizeof *s);
}
