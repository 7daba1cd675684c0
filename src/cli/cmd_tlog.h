/* cmd_tlog.h - the `aupwatch log` and `aupwatch verify` subcommands. */
#ifndef AW_CMD_TLOG_H
#define AW_CMD_TLOG_H

/* argv[0] == "log": init, append, checkpoint, proof, add-cosignature. */
int aw_cmd_log(int argc, char **argv);
/* argv[0] == "verify": offline verification of a log and/or a proof.
 * Exit 0 verified, 1 verification failure, 2 usage or I/O error. */
int aw_cmd_verify(int argc, char **argv);

#endif
