/* engine.c - diagnostics counting and rule/mapping loading shared by
 * the subcommands. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/arena.h"

void aw_diags_fn(void *ud, const char *file, unsigned long line, const char *kind, const char *msg)
{
    aw_diags *d = ud;
    size_t i;
    for (i = 0; i < d->n; i++)
        if (strcmp(d->k[i].kind, kind) == 0)
            break;
    if (i == d->n) {
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 16;
            d->k = realloc(d->k, d->cap * sizeof *d->k);
            if (!d->k)
                abort();
        }
        snprintf(d->k[i].kind, sizeof d->k[i].kind, "%s", kind);
        d->k[i].n = 0;
        d->n++;
    }
    d->k[i].n++;
    d->total++;
    if (!d->quiet) {
        FILE *f = d->out ? d->out : stderr;
        if (line)
            fprintf(f, "%s:%lu: %s [%s]\n", file ? file : "-", line, msg, kind);
        else
            fprintf(f, "%s: %s [%s]\n", file ? file : "-", msg, kind);
    }
}

unsigned long aw_diags_get(const aw_diags *d, const char *kind)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->k[i].kind, kind) == 0)
            return d->k[i].n;
    return 0;
}

static int by_count(const void *a, const void *b)
{
    const aw_diagcount *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->kind, y->kind);
}

void aw_diags_print_summary(const aw_diags *d, FILE *f, const char *title)
{
    if (!d->n)
        return;
    aw_diagcount *c = malloc(d->n * sizeof *c);
    if (!c)
        return;
    memcpy(c, d->k, d->n * sizeof *c);
    qsort(c, d->n, sizeof *c, by_count);
    fprintf(f, "%s:\n", title);
    for (size_t i = 0; i < d->n; i++)
        fprintf(f, "  %8lu  %s\n", c[i].n, c[i].kind);
    free(c);
}

void aw_diags_free(aw_diags *d)
{
    free(d->k);
    memset(d, 0, sizeof *d);
}

/* Derived fields are computed for every event of their source: only
 * those a loaded rule may read (with SigmaHQ's rules alone, none). */
static void derive_what_is_read(aw_engine *e)
{
    if (!e->plan)
        return;
    for (size_t s = 0; s < aw_mapping_count(e->map); s++) {
        const aw_source *src = aw_mapping_source(e->map, s);
        size_t n = aw_source_derive_count(src);
        if (!n)
            continue;
        bool *keep = aw_xcalloc(n, sizeof *keep);
        for (size_t j = 0; j < n; j++)
            keep[j] = aw_plan_reads(e->plan, s, aw_source_derive_name(src, j));
        aw_mapping_derive_only(e->map, s, keep);
        free(keep);
    }
}

aw_status aw_engine_load(aw_engine *e, const aw_engine_opts *o, aw_diags *rd, aw_diags *md)
{
    aw_status rc = AW_OK;
    aw_errbuf err;
    memset(e, 0, sizeof *e);
    e->map = aw_mapping_new();
    e->rs = aw_ruleset_new();
    if (!o->no_builtin_mappings && aw_mapping_load_builtin(e->map, aw_diags_fn, md) != AW_OK)
        rc = AW_EPARSE;
    for (size_t i = 0; i < o->nmappings; i++)
        if (aw_mapping_load(e->map, o->mappings[i], aw_diags_fn, md) != AW_OK)
            rc = AW_EPARSE;
    if (o->key_file || getenv("AUPWATCH_PSEUDONYM_KEY")) {
        if (aw_mapping_load_key(e->map, o->key_file, "AUPWATCH_PSEUDONYM_KEY", &err) != AW_OK) {
            fprintf(stderr, "aupwatch: pseudonymisation key: %s\n", err.msg);
            rc = AW_EIO;
        }
    }
    if (o->placeholders &&
        aw_ruleset_load_placeholders(e->rs, o->placeholders, aw_diags_fn, rd) != AW_OK)
        rc = AW_EIO;
    for (size_t i = 0; i < o->nrules; i++)
        if (aw_ruleset_load(e->rs, o->rules[i], aw_diags_fn, rd) == AW_EIO)
            rc = AW_EIO;
    aw_plan_opts po = {0};
    po.no_prefilter = o->no_prefilter;
    po.compile_threads = o->threads;
    e->plan = aw_plan_new(e->rs, e->map, &po, aw_diags_fn, rd);
    derive_what_is_read(e);
    return rc;
}

void aw_engine_free(aw_engine *e)
{
    aw_plan_free(e->plan);
    aw_ruleset_free(e->rs);
    aw_mapping_free(e->map);
    memset(e, 0, sizeof *e);
}

bool aw_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *val = a + n + 1;
        return true;
    }
    if (a[n] != 0 && n == 2 && name[0] == '-' && name[1] != '-') {  /* -j4 */
        *val = a + n;
        return true;
    }
    if (a[n] != 0)
        return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "aupwatch: option %s needs a value\n", name);
        exit(2);
    }
    *val = argv[++*i];
    return true;
}
