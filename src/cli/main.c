/* main.c - the aupwatch command: dispatch to subcommands. */
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_tlog.h"

static const char usage[] =
    "aupwatch " AW_VERSION " - acceptable-use detection over cloud telemetry\n"
    "\n"
    "usage: aupwatch COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  scan         evaluate Sigma rules over log files, print alerts\n"
    "  rules check  compile rules and report the ones that cannot run\n"
    "  rules test   run SigmaHQ-style regression tests of rules\n"
    "  log          the transparency decision log (init, append, checkpoint, proof)\n"
    "  verify       verify a decision log or a tlog-proof offline\n"
    "  version      print the version\n"
    "\n"
    "Run 'aupwatch COMMAND --help' for a command's options; docs/cli.md has them all.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        puts("aupwatch " AW_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "scan"))
        return aw_cmd_scan(argc - 1, argv + 1);
    if (!strcmp(cmd, "rules"))
        return aw_cmd_rules(argc - 1, argv + 1);
    if (!strcmp(cmd, "log"))
        return aw_cmd_log(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify"))
        return aw_cmd_verify(argc - 1, argv + 1);
    fprintf(stderr, "aupwatch: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
