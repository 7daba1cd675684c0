/* policy.c - witness policy (subset of C2SP tlog-policy): log keys,
 * witnesses, k-of-n groups and the quorum that a checkpoint's verified
 * cosignatures must satisfy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog_int.h"

#define POL_MAX 64
#define POL_MEMBERS 64

typedef struct pol_group {
    char name[AW_NOTE_NAME_MAX + 1];
    unsigned k;
    unsigned n;
    int member[POL_MEMBERS]; /* >= 0 witness index, < 0: -(group+1) */
} pol_group;

struct aw_tlog_policy {
    aw_note_key logs[POL_MAX];
    size_t nlogs;
    aw_note_key wit[POL_MAX];
    char wname[POL_MAX][AW_NOTE_NAME_MAX + 1];
    size_t nwit;
    pol_group grp[POL_MAX];
    size_t ngrp;
    int quorum; /* -1 none, else same encoding as members */
};

static int lookup(const aw_tlog_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nwit; i++)
        if (strcmp(p->wname[i], name) == 0)
            return (int)i;
    for (size_t i = 0; i < p->ngrp; i++)
        if (strcmp(p->grp[i].name, name) == 0)
            return -(int)i - 1;
    return -1000;
}

static int split(char *line, char **tok, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t", &save); t && n < max;
         t = strtok_r(NULL, " \t", &save))
        tok[n++] = t;
    return n;
}

aw_status aw_tlog_policy_parse(const char *text, size_t len,
                               aw_tlog_policy **out, aw_errbuf *err)
{
    aw_tlog_policy *p = calloc(1, sizeof *p);
    char line[4096];
    unsigned lineno = 0;
    int have_quorum = 0;
    *out = NULL;
    if (!p) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    p->quorum = -1000;
    size_t pos = 0;
    while (pos < len) {
        const char *eol = memchr(text + pos, '\n', len - pos);
        size_t ll = eol ? (size_t)(eol - text) - pos : len - pos;
        lineno++;
        if (ll >= sizeof line) {
            aw_errbuf_set(err, "policy line %u: too long", lineno);
            goto fail;
        }
        memcpy(line, text + pos, ll);
        line[ll] = 0;
        pos += ll + 1;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *tok[POL_MEMBERS + 3];
        int nt = split(line, tok, POL_MEMBERS + 3);
        if (nt == 0)
            continue;
        if (strcmp(tok[0], "log") == 0 && nt >= 2) {
            if (p->nlogs >= POL_MAX ||
                aw_note_key_parse(tok[1], strlen(tok[1]), &p->logs[p->nlogs],
                                  err) != AW_OK) {
                aw_errbuf_set(err, "policy line %u: bad log key", lineno);
                goto fail;
            }
            p->nlogs++;
        } else if (strcmp(tok[0], "witness") == 0 && nt >= 3) {
            if (p->nwit >= POL_MAX || lookup(p, tok[1]) != -1000 ||
                strlen(tok[1]) > AW_NOTE_NAME_MAX ||
                aw_note_key_parse(tok[2], strlen(tok[2]), &p->wit[p->nwit],
                                  err) != AW_OK) {
                aw_errbuf_set(err, "policy line %u: bad or duplicate witness",
                              lineno);
                goto fail;
            }
            strcpy(p->wname[p->nwit++], tok[1]);
        } else if (strcmp(tok[0], "group") == 0 && nt >= 4) {
            pol_group *g = &p->grp[p->ngrp];
            if (p->ngrp >= POL_MAX || lookup(p, tok[1]) != -1000 ||
                strlen(tok[1]) > AW_NOTE_NAME_MAX) {
                aw_errbuf_set(err, "policy line %u: bad or duplicate group",
                              lineno);
                goto fail;
            }
            strcpy(g->name, tok[1]);
            g->n = (unsigned)(nt - 3);
            for (unsigned i = 0; i < g->n; i++) {
                g->member[i] = lookup(p, tok[3 + i]);
                if (g->member[i] == -1000) {
                    aw_errbuf_set(err, "policy line %u: unknown member %s",
                                  lineno, tok[3 + i]);
                    goto fail;
                }
            }
            uint64_t k;
            if (strcmp(tok[2], "all") == 0)
                g->k = g->n;
            else if (strcmp(tok[2], "any") == 0)
                g->k = 1;
            else if (aw_tlog_parse_u64(tok[2], strlen(tok[2]), &k) == 0 &&
                     k >= 1 && k <= g->n)
                g->k = (unsigned)k;
            else {
                aw_errbuf_set(err, "policy line %u: bad threshold %s", lineno,
                              tok[2]);
                goto fail;
            }
            p->ngrp++;
        } else if (strcmp(tok[0], "quorum") == 0 && nt == 2 && !have_quorum) {
            have_quorum = 1;
            if (strcmp(tok[1], "none") == 0)
                p->quorum = -1000;
            else if ((p->quorum = lookup(p, tok[1])) == -1000) {
                aw_errbuf_set(err, "policy line %u: unknown quorum %s", lineno,
                              tok[1]);
                goto fail;
            }
        } else {
            aw_errbuf_set(err, "policy line %u: cannot parse \"%s\"", lineno,
                          tok[0]);
            goto fail;
        }
    }
    if (!have_quorum) {
        aw_errbuf_set(err, "policy: no quorum line");
        goto fail;
    }
    *out = p;
    return AW_OK;
fail:
    free(p);
    return AW_EPARSE;
}

void aw_tlog_policy_free(aw_tlog_policy *p)
{
    free(p);
}

const aw_note_key *aw_tlog_policy_witness_keys(const aw_tlog_policy *p,
                                               size_t *n)
{
    *n = p->nwit;
    return p->wit;
}

const aw_note_key *aw_tlog_policy_log_keys(const aw_tlog_policy *p, size_t *n)
{
    *n = p->nlogs;
    return p->logs;
}

static int satisfied(const aw_tlog_policy *p, const unsigned char *ok, int m,
                     int depth)
{
    if (m >= 0)
        return ok[m];
    if (depth > POL_MAX)
        return 0;
    const pol_group *g = &p->grp[-m - 1];
    unsigned c = 0;
    for (unsigned i = 0; i < g->n; i++)
        c += (unsigned)satisfied(p, ok, g->member[i], depth + 1);
    return c >= g->k;
}

aw_status aw_tlog_policy_check(const aw_tlog_policy *p, const aw_note *note,
                               size_t nlog, aw_errbuf *err)
{
    unsigned char ok[POL_MAX] = {0};
    unsigned count = 0;
    if (p->quorum == -1000)
        return AW_OK;
    for (size_t i = 0; i < note->nsigs; i++) {
        const aw_note_sig *s = &note->sigs[i];
        if (!s->verified || s->key_index < (int)nlog)
            continue;
        size_t w = (size_t)s->key_index - nlog;
        if (w < p->nwit && !ok[w]) {
            ok[w] = 1;
            count++;
        }
    }
    if (!satisfied(p, ok, p->quorum, 0)) {
        aw_errbuf_set(err, "witness quorum not satisfied (%u valid "
                           "cosignature%s of %zu witnesses)",
                      count, count == 1 ? "" : "s", p->nwit);
        return AW_ERR;
    }
    return AW_OK;
}
