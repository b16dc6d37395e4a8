/* src/cli/cmd_measure.c — `tkms measure`: the measurement of a tkms-enclave binary.
 *
 * Runs `tkms-enclave --measure` (the core measures itself: its binary and every
 * shared object the loader gave it, see docs/reproducible-builds.md) and prints
 * what it says. The core is run rather than re-implemented here so that the
 * libraries measured are the ones the loader really picks, with this
 * environment's LD_LIBRARY_PATH, exactly as `tkms serve` would start it.
 * With --compare it also asks the service (--url) for the measurement in
 * /v1/health and says whether they are the same. */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/http_client.h"

#define MEASURE_OUT_MAX 32768u /* the manifest is bounded by the core (16 KiB) */

static const char usage_text[] =
    "usage: tkms measure [--enclave PATH] [--compare]\n"
    "\n"
    "Prints the measurement of a tkms-enclave binary and the manifest it is\n"
    "computed from (role, file name and SHA-256 of the core binary and of every\n"
    "shared library it loads), by running `tkms-enclave --measure`.\n"
    "  --enclave PATH  the core binary (default: tkms-enclave beside tkms)\n"
    "  --compare       also fetch /v1/health from the service (--url) and check that\n"
    "                  it reports this measurement\n"
    "Exit status: 0 measured (and, with --compare, equal), 1 failed or different,\n"
    "2 usage error.\n";

static int default_enclave(char *out, size_t cap) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  int r = snprintf(out, cap, "%s/tkms-enclave", dirname(self));
  return (r < 0 || (size_t)r >= cap) ? -1 : 0;
}

/* Runs enclave --measure; out gets its stdout (NUL-terminated). Returns 0 or -1. */
static int run_measure(const char *enclave, char *out, size_t cap) {
  int p[2];
  if (pipe(p) != 0) {
    fprintf(stderr, "tkms: pipe: %s\n", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "tkms: fork: %s\n", strerror(errno));
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    close(p[0]);
    if (dup2(p[1], STDOUT_FILENO) < 0) _exit(127);
    close(p[1]);
    char *argv[] = {(char *)enclave, "--measure", NULL};
    execv(enclave, argv);
    fprintf(stderr, "tkms: cannot run %s: %s\n", enclave, strerror(errno));
    _exit(127);
  }
  close(p[1]);
  size_t n = 0;
  int too_big = 0;
  for (;;) {
    char tmp[4096];
    ssize_t r = read(p[0], tmp, sizeof tmp);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (n + (size_t)r >= cap) {
      too_big = 1;
      continue; /* drain, so the child is not blocked on a full pipe */
    }
    memcpy(out + n, tmp, (size_t)r);
    n += (size_t)r;
  }
  close(p[0]);
  out[n] = '\0';
  int st;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "tkms: waitpid: %s\n", strerror(errno));
      return -1;
    }
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "tkms: %s --measure failed (its message is above)\n", enclave);
    return -1;
  }
  if (too_big || strncmp(out, "measurement 0x", 14) != 0 || strlen(out) < 14 + 64 + 1 ||
      out[14 + 64] != '\n') {
    fprintf(stderr, "tkms: %s --measure printed something unexpected\n", enclave);
    return -1;
  }
  return 0;
}

static int compare(tkms_cli_common *c, const char *local) {
  tkms_cli_response r;
  if (tkms_cli_http(c->url, "GET", "/v1/health", NULL, &r) != 0) return TKMS_CLI_EXIT_FAIL;
  const char *remote = NULL;
  if (r.status == 200 && json_is_object(r.json))
    remote = json_string_value(json_object_get(r.json, "measurement"));
  int rc;
  if (remote == NULL) {
    fprintf(stderr, "tkms: %s/v1/health (HTTP %ld) reports no measurement\n", c->url, r.status);
    rc = TKMS_CLI_EXIT_FAIL;
  } else if (strlen(remote) == 66 && strncasecmp(remote, local, 66) == 0) {
    printf("the service at %s runs this measurement\n", c->url);
    rc = TKMS_CLI_EXIT_OK;
  } else {
    printf("DIFFERENT: the service at %s reports measurement %s\n", c->url, remote);
    rc = TKMS_CLI_EXIT_FAIL;
  }
  tkms_cli_response_free(&r);
  return rc;
}

int tkms_cli_cmd_measure(tkms_cli_common *c, int argc, char **argv) {
  const char *enclave = NULL;
  int do_compare = 0, help = 0;
  const tkms_cli_opt opts[] = {{"enclave", &enclave, NULL}, {"compare", NULL, &do_compare}};
  char *pos[1];
  size_t n_pos = 0;
  if (tkms_cli_args_parse(argc - 1, argv + 1, opts, sizeof opts / sizeof opts[0], pos, 1, &n_pos, c,
                          &help) != 0)
    return TKMS_CLI_EXIT_USAGE;
  if (help) {
    fputs(usage_text, stdout);
    return TKMS_CLI_EXIT_OK;
  }
  if (n_pos != 0) {
    fputs(usage_text, stderr);
    return TKMS_CLI_EXIT_USAGE;
  }
  char path[PATH_MAX];
  if (enclave == NULL) {
    if (default_enclave(path, sizeof path) != 0) {
      fprintf(stderr, "tkms: cannot locate tkms-enclave; use --enclave PATH\n");
      return TKMS_CLI_EXIT_FAIL;
    }
    enclave = path;
  }
  char *out = malloc(MEASURE_OUT_MAX);
  if (out == NULL) return TKMS_CLI_EXIT_FAIL;
  int rc = TKMS_CLI_EXIT_FAIL;
  if (run_measure(enclave, out, MEASURE_OUT_MAX) == 0) {
    fputs(out, stdout);
    char local[67];
    memcpy(local, out + 12, 66);
    local[66] = '\0';
    rc = do_compare ? compare(c, local) : TKMS_CLI_EXIT_OK;
  }
  free(out);
  return rc;
}
