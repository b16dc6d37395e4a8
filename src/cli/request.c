/* src/cli/request.c — typed-data hashing and request signing; see request.h.
 *
 * The encoder is driven by the field types in proto/requests.c, the same table
 * the core hashes with, so the CLI cannot drift from the core on field order. */
#include "cli/request.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/keccak.h"
#include "proto/hex.h"
#include "proto/requests.h"

/* Array lengths are bounded by the API (scope key list <= 64); refuse more
 * instead of allocating whatever a caller asks for. */
#define MAX_ARRAY_ELEMS 256u

tkms_cli_value tkms_cli_value_str(const char *s) {
  return (tkms_cli_value){(const uint8_t *)s, strlen(s), 0, NULL, 0};
}

tkms_cli_value tkms_cli_value_bytes(const uint8_t *b, size_t len) {
  return (tkms_cli_value){b, len, 0, NULL, 0};
}

tkms_cli_value tkms_cli_value_uint(uint64_t v) {
  return (tkms_cli_value){NULL, 0, v, NULL, 0};
}

/* Parses the decimal suffix of "bytesN"/"uintN". Returns N, or 0 if malformed. */
static unsigned type_size(const char *digits) {
  unsigned v = 0;
  if (*digits == '\0' || *digits == '0') return 0;
  for (; *digits != '\0'; digits++) {
    if (*digits < '0' || *digits > '9' || v > 1000) return 0;
    v = v * 10 + (unsigned)(*digits - '0');
  }
  return v;
}

static int encode_value(const char *type, size_t type_len, const char *field,
                        const tkms_cli_value *v, uint8_t w[32]);

static int encode_array(const char *type, size_t type_len, const char *field,
                        const tkms_cli_value *v, uint8_t w[32]) {
  if (v->n_elems > MAX_ARRAY_ELEMS) {
    fprintf(stderr, "tkms: %s: more than %u elements\n", field, MAX_ARRAY_ELEMS);
    return -1;
  }
  uint8_t(*words)[32] = calloc(v->n_elems > 0 ? v->n_elems : 1, sizeof *words);
  if (words == NULL) return -1;
  int rc = 0;
  for (size_t i = 0; i < v->n_elems && rc == 0; i++)
    rc = encode_value(type, type_len - 2, field, &v->elems[i], words[i]);
  if (rc == 0) tkms_eip712_word_array((const uint8_t(*)[32])words, v->n_elems, w);
  free(words);
  return rc;
}

/* type is not NUL-terminated at type_len when it is an array's element type. */
static int encode_value(const char *type, size_t type_len, const char *field,
                        const tkms_cli_value *v, uint8_t w[32]) {
  char t[32];
  if (type_len >= sizeof t) return -1;
  memcpy(t, type, type_len);
  t[type_len] = '\0';

  if (type_len > 2 && strcmp(t + type_len - 2, "[]") == 0)
    return encode_array(type, type_len, field, v, w);
  if (strcmp(t, "string") == 0 || strcmp(t, "bytes") == 0) {
    tkms_eip712_word_dynamic(v->bytes != NULL ? v->bytes : (const uint8_t *)"", v->len, w);
    return 0;
  }
  if (strncmp(t, "bytes", 5) == 0) {
    unsigned n = type_size(t + 5);
    if (n == 0 || n > 32) return -1;
    if (v->len != n) {
      fprintf(stderr, "tkms: %s must be %u bytes, not %zu\n", field, n, v->len);
      return -1;
    }
    return tkms_eip712_word_bytes_n(v->bytes, n, w);
  }
  if (strncmp(t, "uint", 4) == 0) {
    unsigned bits = type_size(t + 4);
    if (bits == 0 || bits > 64 || bits % 8 != 0) return -1;
    if (bits < 64 && (v->num >> bits) != 0) {
      fprintf(stderr, "tkms: %s does not fit in %s\n", field, t);
      return -1;
    }
    tkms_eip712_word_uint64(v->num, w);
    return 0;
  }
  fprintf(stderr, "tkms: internal: no encoder for EIP-712 type %s\n", t);
  return -1;
}

void tkms_cli_domain_separator(const uint8_t salt[32], uint8_t out[32]) {
  uint8_t type_hash[32], words[3][32];
  tkms_eip712_type_hash(TKMS_EIP712_DOMAIN_TYPE, type_hash);
  tkms_eip712_word_dynamic(TKMS_EIP712_NAME, strlen(TKMS_EIP712_NAME), words[0]);
  tkms_eip712_word_dynamic(TKMS_EIP712_VERSION, strlen(TKMS_EIP712_VERSION), words[1]);
  memcpy(words[2], salt, 32);
  tkms_eip712_hash_struct(type_hash, (const uint8_t(*)[32])words, 3, out);
}

int tkms_cli_hash_struct(int rt, const tkms_cli_value *vals, size_t n, uint8_t out[32]) {
  if (rt < 0 || rt >= TKMS_RT__COUNT) return -1;
  const tkms_eip712_request_type *type = &tkms_eip712_request_types[rt];
  /* Every request type has at most a handful of fields; a fixed array keeps
   * this free of allocation. */
  uint8_t words[8][32];
  if (n != type->n_fields || n > 8) {
    fprintf(stderr, "tkms: internal: %s has %zu fields, got %zu values\n", type->primary,
            type->n_fields, n);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const tkms_eip712_field *f = &type->fields[i];
    if (encode_value(f->type, strlen(f->type), f->name, &vals[i], words[i]) != 0) return -1;
  }
  uint8_t type_hash[32];
  tkms_eip712_type_hash(type->encode_type, type_hash);
  tkms_eip712_hash_struct(type_hash, (const uint8_t(*)[32])words, n, out);
  return 0;
}

int tkms_cli_typed_digest(const uint8_t salt[32], int rt, const tkms_cli_value *vals, size_t n,
                          uint8_t preimage[TKMS_EIP712_PREIMAGE_BYTES], uint8_t digest[32]) {
  uint8_t domain[32], hs[32];
  if (tkms_cli_hash_struct(rt, vals, n, hs) != 0) return -1;
  tkms_cli_domain_separator(salt, domain);
  tkms_eip712_preimage(domain, hs, preimage);
  tkms_eip712_digest(domain, hs, digest);
  return 0;
}

static json_t *hex_json(const uint8_t *b, size_t n) {
  char *hex = malloc(2 * n + 3);
  if (hex == NULL) return NULL;
  tkms_hex_encode(b, n, hex);
  json_t *j = json_string(hex);
  free(hex);
  return j;
}

/* The JSON form of one value, as wallets and ethers take typed data. */
static json_t *value_json(const char *type, size_t type_len, const tkms_cli_value *v) {
  if (type_len > 2 && type[type_len - 2] == '[' && type[type_len - 1] == ']') {
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < v->n_elems; i++)
      if (json_array_append_new(arr, value_json(type, type_len - 2, &v->elems[i])) != 0) {
        json_decref(arr);
        arr = NULL;
      }
    return arr;
  }
  if (type_len == 6 && strncmp(type, "string", 6) == 0)
    return json_stringn((const char *)(v->bytes != NULL ? v->bytes : (const uint8_t *)""), v->len);
  if (strncmp(type, "uint", 4) == 0) {
    /* JSON numbers lose precision above 2^53; wallets take decimal strings. */
    if (v->num <= (1ull << 53)) return json_integer((json_int_t)v->num);
    char dec[24];
    snprintf(dec, sizeof dec, "%llu", (unsigned long long)v->num);
    return json_string(dec);
  }
  return hex_json(v->bytes, v->len); /* bytes, bytesN */
}

static json_t *fields_json(const tkms_eip712_field *f, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < n; i++)
    if (json_array_append_new(arr, json_pack("{s:s, s:s}", "name", f[i].name, "type", f[i].type)) !=
        0) {
      json_decref(arr);
      arr = NULL;
    }
  return arr;
}

json_t *tkms_cli_typed_data_json(const uint8_t salt[32], int rt, const tkms_cli_value *vals,
                                 size_t n) {
  if (rt < 0 || rt >= TKMS_RT__COUNT) return NULL;
  const tkms_eip712_request_type *type = &tkms_eip712_request_types[rt];
  static const tkms_eip712_field domain_fields[] = {
      {"name", "string"}, {"version", "string"}, {"salt", "bytes32"}};
  if (n != type->n_fields) return NULL;
  json_t *message = json_object();
  for (size_t i = 0; message != NULL && i < n; i++) {
    const tkms_eip712_field *f = &type->fields[i];
    if (json_object_set_new(message, f->name, value_json(f->type, strlen(f->type), &vals[i])) !=
        0) {
      json_decref(message);
      message = NULL;
    }
  }
  if (message == NULL) return NULL;
  return json_pack("{s:{s:s, s:s, s:o}, s:s, s:{s:o, s:o}, s:o}", "domain", "name",
                   TKMS_EIP712_NAME, "version", TKMS_EIP712_VERSION, "salt", hex_json(salt, 32),
                   "primaryType", type->primary, "types", "EIP712Domain",
                   fields_json(domain_fields, 3), type->primary,
                   fields_json(type->fields, type->n_fields), "message", message);
}

int tkms_cli_envelope_init(tkms_cli_envelope *e, const uint8_t salt[32]) {
  time_t now = time(NULL);
  if (now == (time_t)-1 || now < 0) {
    fprintf(stderr, "tkms: cannot read the clock\n");
    return -1;
  }
  memcpy(e->salt, salt, 32);
  randombytes_buf(e->request_id, sizeof e->request_id);
  e->deadline = (uint64_t)now + TKMS_CLI_DEADLINE_SECONDS;
  return 0;
}

static int set_hex(json_t *body, const char *key, const uint8_t *b, size_t n) {
  char hex[2 * TKMS_CLI_ACCOUNT_SIG_MAX + 3];
  if (n > TKMS_CLI_ACCOUNT_SIG_MAX) return -1;
  tkms_hex_encode(b, n, hex);
  return json_object_set_new(body, key, json_string(hex));
}

int tkms_cli_request_sign(const tkms_cli_account *a, const tkms_cli_envelope *e, int rt,
                          const tkms_cli_value *vals, size_t n, json_t *body) {
  uint8_t preimage[TKMS_EIP712_PREIMAGE_BYTES], digest[32];
  uint8_t sig[TKMS_CLI_ACCOUNT_SIG_MAX];
  size_t sig_len = 0;
  if (tkms_cli_typed_digest(e->salt, rt, vals, n, preimage, digest) != 0) return -1;
  if (tkms_cli_account_sign(a, preimage, sig, &sig_len) != 0) return -1;
  if (e->deadline > (uint64_t)INT64_MAX) return -1;
  if (set_hex(body, "request_id", e->request_id, sizeof e->request_id) != 0 ||
      json_object_set_new(body, "deadline", json_integer((json_int_t)e->deadline)) != 0 ||
      set_hex(body, "deployment", e->salt, sizeof e->salt) != 0 ||
      set_hex(body, "signature", sig, sig_len) != 0) {
    fprintf(stderr, "tkms: out of memory\n");
    return -1;
  }
  return 0;
}
