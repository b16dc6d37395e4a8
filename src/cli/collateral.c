/* src/cli/collateral.c — attestation collateral from files (see collateral.h). */
#include "cli/collateral.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/files.h"

#define ITEM_FILE_MAX (4u << 20)

void tkms_cli_collateral_init(tkms_cli_collateral *c) {
  memset(c, 0, sizeof *c);
  c->col.items = c->items;
}

void tkms_cli_collateral_free(tkms_cli_collateral *c) {
  for (size_t i = 0; i < c->col.n; i++) {
    free(c->names[i]);
    free(c->data[i]);
  }
  tkms_cli_collateral_init(c);
}

int tkms_cli_collateral_add(tkms_cli_collateral *c, const char *name, const uint8_t *data,
                            size_t len) {
  size_t i;
  for (i = 0; i < c->col.n; i++)
    if (strcmp(c->names[i], name) == 0) break;
  if (i == TKMS_CLI_MAX_ITEMS) return -1;
  uint8_t *copy = malloc(len + 1);
  char *nm = strdup(name);
  if (copy == NULL || nm == NULL) {
    free(copy);
    free(nm);
    return -1;
  }
  if (len > 0) memcpy(copy, data, len);
  copy[len] = '\0';
  if (i < c->col.n) {
    free(c->names[i]);
    free(c->data[i]);
  } else {
    c->col.n++;
  }
  c->names[i] = nm;
  c->data[i] = copy;
  c->items[i] = (tkms_attest_item){nm, copy, len};
  c->col.items = c->items;
  return 0;
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Hex text (surrounding whitespace and a 0x prefix allowed) into a malloc'd
 * buffer; NULL if it is not hex. */
static uint8_t *unhex(const char *s, size_t len, size_t *out_len) {
  while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL) len--;
  while (len > 0 && strchr(" \t\r\n", s[0]) != NULL) s++, len--;
  if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2, len -= 2;
  if (len == 0 || len % 2 != 0) return NULL;
  uint8_t *b = malloc(len / 2);
  if (b == NULL) return NULL;
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(b);
      return NULL;
    }
    b[i] = (uint8_t)(hi << 4 | lo);
  }
  *out_len = len / 2;
  return b;
}

int tkms_cli_collateral_from_json(tkms_cli_collateral *c, const char *text, size_t len) {
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_object(root)) {
    json_decref(root);
    return -1;
  }
  int rc = 0;
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    if (!json_is_string(v)) continue;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), blen = 0;
    uint8_t *b = unhex(s, n, &blen);
    if (b != NULL) {
      rc |= tkms_cli_collateral_add(c, key, b, blen);
      free(b);
    } else {
      rc |= tkms_cli_collateral_add(c, key, (const uint8_t *)s, n);
    }
  }
  json_decref(root);
  return rc != 0 ? -1 : 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a > b && strcmp(s + a - b, suffix) == 0;
}

static int load_dir(tkms_cli_collateral *c, const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) {
    fprintf(stderr, "tkms: cannot open %s\n", path);
    return -1;
  }
  static const char *const suffixes[] = {".pem", ".der", ".json", ".bin", ".hex"};
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char file[4096];
    if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) >= (int)sizeof file) continue;
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    char name[256];
    snprintf(name, sizeof name, "%s", e->d_name);
    int hex = ends_with(name, ".hex");
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
      if (ends_with(name, suffixes[i])) name[strlen(name) - strlen(suffixes[i])] = '\0';
    uint8_t *buf = NULL;
    size_t len = 0;
    if (tkms_cli_file_read(file, ITEM_FILE_MAX, &buf, &len) != 0) {
      rc = -1;
      break;
    }
    if (hex) {
      size_t blen;
      uint8_t *b = unhex((const char *)buf, len, &blen);
      if (b == NULL) {
        fprintf(stderr, "tkms: %s is not hex\n", file);
        rc = -1;
      } else {
        rc = tkms_cli_collateral_add(c, name, b, blen);
      }
      free(b);
    } else {
      rc = tkms_cli_collateral_add(c, name, buf, len);
    }
    free(buf);
    if (rc != 0) fprintf(stderr, "tkms: too many collateral items in %s\n", path);
  }
  closedir(d);
  return rc;
}

int tkms_cli_collateral_load(tkms_cli_collateral *c, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "tkms: cannot find %s\n", path);
    return -1;
  }
  if (S_ISDIR(st.st_mode)) return load_dir(c, path);
  uint8_t *buf = NULL;
  size_t len = 0;
  if (tkms_cli_file_read(path, ITEM_FILE_MAX, &buf, &len) != 0) return -1;
  int rc = tkms_cli_collateral_from_json(c, (const char *)buf, len);
  free(buf);
  if (rc != 0) fprintf(stderr, "tkms: %s is not a collateral JSON object\n", path);
  return rc;
}
