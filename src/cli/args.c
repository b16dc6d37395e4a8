/* src/cli/args.c — command-line option parsing; see args.h. */
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  const char **value;
  int *flag;
  int seen;
} slot;

/* The options every command takes, then the command's own. */
#define MAX_OPTS 24

static int set_value(slot *s, const char *arg) {
  if (s->seen) {
    fprintf(stderr, "tkms: --%s given twice\n", s->name);
    return -1;
  }
  s->seen = 1;
  if (s->flag != NULL) {
    if (arg != NULL) {
      fprintf(stderr, "tkms: --%s takes no value\n", s->name);
      return -1;
    }
    *s->flag = 1;
    return 0;
  }
  *s->value = arg;
  return 0;
}

int tkms_cli_args_parse(int argc, char **argv, const tkms_cli_opt *opts, size_t n_opts, char **pos,
                        size_t max_pos, size_t *n_pos, tkms_cli_common *common, int *help) {
  slot slots[MAX_OPTS];
  size_t n = 0;
  int help_flag = 0;
  if (n_opts > MAX_OPTS - 3) return -1;
  slots[n++] = (slot){"url", &common->url, NULL, 0};
  slots[n++] = (slot){"deployment", &common->deployment, NULL, 0};
  slots[n++] = (slot){"help", NULL, &help_flag, 0};
  for (size_t i = 0; i < n_opts; i++)
    slots[n++] = (slot){opts[i].name, opts[i].value, opts[i].flag, 0};

  *n_pos = 0;
  int only_positional = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
      if (*n_pos >= max_pos) {
        fprintf(stderr, "tkms: unexpected argument '%s'\n", a);
        return -1;
      }
      pos[(*n_pos)++] = argv[i];
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_positional = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0) {
      help_flag = 1;
      continue;
    }
    if (a[1] != '-') {
      fprintf(stderr, "tkms: unknown option '%s' (options are long: --name)\n", a);
      return -1;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    slot *s = NULL;
    for (size_t k = 0; k < n; k++) {
      if (strlen(slots[k].name) == name_len && strncmp(slots[k].name, name, name_len) == 0) {
        s = &slots[k];
        break;
      }
    }
    if (s == NULL) {
      fprintf(stderr, "tkms: unknown option '%.*s'\n", (int)(name_len + 2), a);
      return -1;
    }
    const char *arg = NULL;
    if (eq != NULL) {
      arg = eq + 1;
    } else if (s->flag == NULL) {
      if (i + 1 >= argc) {
        fprintf(stderr, "tkms: --%s needs a value\n", s->name);
        return -1;
      }
      arg = argv[++i];
    }
    if (set_value(s, arg) != 0) return -1;
  }
  *help = help_flag;
  return 0;
}

int tkms_cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
                       unsigned long long *out) {
  if (s == NULL || s[0] < '0' || s[0] > '9') return -1; /* no sign, no spaces */
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return -1;
  *out = v;
  return 0;
}

int tkms_cli_usage(FILE *f, const char *text, int rc) {
  fputs(text, f);
  return rc;
}

int tkms_cli_usage_error(const char *text, const char *who, const char *why) {
  fprintf(stderr, "%s: %s\n", who, why);
  return tkms_cli_usage(stderr, text, TKMS_CLI_EXIT_USAGE);
}
