/* fuzz_tlog_note.c - libFuzzer target: signed-note, checkpoint, vkey and
 * witness-policy parsers on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aupwatch/aw_tlog.h"

static const char LOG_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
static const char WIT_VKEY[] =
    "witness.example/aupwatch-test+9e646c8d+BOXa6gd97TJjwMuExboLmWXMsyf2JLvOU6yTM532QOyH";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static aw_note_key keys[2];
    static int init;
    aw_errbuf e;
    if (!init) {
        aw_note_key_parse(LOG_VKEY, strlen(LOG_VKEY), &keys[0], &e);
        aw_note_key_parse(WIT_VKEY, strlen(WIT_VKEY), &keys[1], &e);
        init = 1;
    }
    const char *s = (const char *)data;
    aw_note *n = NULL;
    if (aw_note_parse(s, size, &n, &e) == AW_OK) {
        aw_checkpoint cp;
        aw_checkpoint_parse(n->msg, n->text_len, &cp, &e);
        aw_note_verify(n, keys, 2, &e);
        aw_note_free(n);
    }
    aw_checkpoint cp;
    aw_checkpoint_parse(s, size, &cp, &e);
    aw_tlog_checkpoint_open(s, size, &keys[0], NULL, NULL, &cp, &e);
    aw_note_key k;
    aw_note_key_parse(s, size, &k, &e);
    aw_tlog_policy *p = NULL;
    if (aw_tlog_policy_parse(s, size, &p, &e) == AW_OK)
        aw_tlog_policy_free(p);
    char rec[AW_TLOG_RECORD_MAX];
    size_t rl;
    aw_tlog_record_canon(s, size, rec, &rl, &e);
    return 0;
}
