/* ruleset.c - a collection of Sigma documents loaded from files.
 *
 * Owns everything its rules point to (one arena, plus compiled
 * regexes), interns field names so the plan can resolve each once per
 * log source, and holds the placeholder values for |expand. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "aupwatch/aw_input.h"
#include "sigma/sigma_int.h"

aw_ruleset *aw_ruleset_new(void)
{
    aw_ruleset *rs = aw_xcalloc(1, sizeof *rs);
    aw_arena_init(&rs->arena);
    return rs;
}

void aw_ruleset_free(aw_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nregex; i++)
        pcre2_code_free(rs->regexes[i]);
    free(rs->regexes);
    free(rs->rules);
    free(rs->fields);
    free(rs->ph);
    free(rs->refs);
    for (size_t i = 0; i < rs->nlits; i++)
        free(rs->lits[i]);
    free(rs->lits);
    free(rs->litn);
    free(rs->litfield);
    free(rs->lithash);
    aw_arena_reset(&rs->arena);
    free(rs);
}

void aw_rule_keep_regex(aw_ruleset *rs, pcre2_code *re)
{
    aw_grow((void **)&rs->regexes, &rs->capregex, rs->nregex, sizeof *rs->regexes);
    rs->regexes[rs->nregex++] = re;
}

int aw_ruleset_intern_field(aw_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->nfields; i++)
        if (strcmp(rs->fields[i], name) == 0)
            return (int)i;
    aw_grow((void **)&rs->fields, &rs->capfields, rs->nfields, sizeof *rs->fields);
    rs->fields[rs->nfields] = aw_arena_strdup(&rs->arena, name);
    return (int)rs->nfields++;
}

const aw_placeholder *aw_ruleset_placeholder(const aw_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->nph; i++)
        if (strcmp(rs->ph[i].name, name) == 0)
            return &rs->ph[i];
    return NULL;
}

static char *slurp(const char *path, size_t *len, aw_errbuf *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        aw_errbuf_set(err, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = aw_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            if (cap >= (64u << 20)) {
                aw_errbuf_set(err, "file larger than 64 MiB");
                fclose(f);
                free(buf);
                return NULL;
            }
            buf = aw_xrealloc(buf, cap *= 2);
        }
    }
    if (ferror(f)) {
        aw_errbuf_set(err, "read error: %s", strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ---- placeholders --------------------------------------------------------- */

static int grab_first(void *ud, aw_ynode *doc, unsigned idx)
{
    if (idx == 0)
        *(aw_ynode **)ud = doc;
    return 0;
}

aw_status aw_ruleset_load_placeholders(aw_ruleset *rs, const char *path, aw_diag_fn diag, void *ud)
{
    aw_errbuf err;
    size_t len;
    unsigned eline = 0;
    aw_ynode *root = NULL;
    char *buf = slurp(path, &len, &err);
    if (!buf) {
        if (diag)
            diag(ud, path, 0, "io", err.msg);
        return AW_EIO;
    }
    aw_status rc = aw_ytree_parse(&rs->arena, buf, len, grab_first, &root, &eline, &err);
    free(buf);
    if (rc != AW_OK) {
        if (diag)
            diag(ud, path, eline, "yaml-syntax", err.msg);
        return AW_EPARSE;
    }
    if (!root || root->type != AW_Y_MAP) {
        if (diag)
            diag(ud, path, root ? root->line : 1, "invalid-placeholders",
                 "placeholder file must be a map: name -> value or list of values");
        return AW_EPARSE;
    }
    for (size_t i = 0; i < root->n; i++) {
        aw_ynode *k = aw_ymap_key(root, i), *v = aw_ymap_val(root, i);
        aw_ynode *one[1] = {v};
        aw_ynode **vals = v->type == AW_Y_SEQ ? v->kids : one;
        size_t nv = v->type == AW_Y_SEQ ? v->n : 1;
        aw_grow((void **)&rs->ph, &rs->capph, rs->nph, sizeof *rs->ph);
        aw_placeholder *ph = &rs->ph[rs->nph];
        ph->name = k->text;
        ph->vals = aw_arena_alloc(&rs->arena, (nv ? nv : 1) * sizeof *ph->vals);
        ph->n = 0;
        for (size_t j = 0; j < nv; j++) {
            if (vals[j]->type != AW_Y_SCALAR) {
                if (diag)
                    diag(ud, path, vals[j]->line, "invalid-placeholders",
                         "placeholder values must be strings");
                return AW_EPARSE;
            }
            ph->vals[ph->n++] = aw_sstr_parse(&rs->arena, vals[j]->text, vals[j]->len, false);
        }
        rs->nph++;
    }
    return AW_OK;
}

/* ---- rules ------------------------------------------------------------------ */

typedef struct loadctx {
    aw_rctx cx;
    aw_status rc;
    unsigned v1_collection;     /* line of an `action:` document, if any */
} loadctx;

static void ref_index_add(aw_ruleset *rs, aw_rule *r);

static int add_doc(void *ud, aw_ynode *doc, unsigned idx)
{
    loadctx *lc = ud;
    aw_ruleset *rs = lc->cx.rs;
    if (!doc)
        return 0;                       /* empty document (e.g. trailing ---) */
    aw_ynode *action = aw_ymap_get(doc, "action");
    if (action && !lc->v1_collection)
        lc->v1_collection = action->line;
    if (!action && lc->v1_collection) {
        aw_rule_reject(&lc->cx, doc->line, "legacy-action",
                       "document belongs to a Sigma v1 collection ('action:' at line %u): removed in Sigma 2, "
                       "write each rule in full", lc->v1_collection);
        rs->rejected++;
        return 0;
    }
    /* the rule's structures are compiled in a scratch arena, packed into
     * rs->arena (aw_rule_pack) and the scratch freed */
    aw_arena tmp;
    aw_arena_init(&tmp);
    lc->cx.tmp = &tmp;
    aw_rule *r = aw_rule_compile(&lc->cx, doc);
    lc->cx.tmp = NULL;
    aw_arena_reset(&tmp);
    if (!r) {
        rs->rejected++;
        return 0;
    }
    const aw_rule *o;
    const char *dup = NULL;
    if (r->id && (o = aw_ruleset_find(rs, r->id)))
        dup = r->id;
    else if (r->name && (o = aw_ruleset_find(rs, r->name)))
        dup = r->name;
    if (dup) {
        aw_rule_reject(&lc->cx, r->line, "duplicate-id", "'%s' is already used by %s:%u", dup, o->path, o->line);
        rs->rejected++;
        return 0;
    }
    ref_index_add(rs, r);
    r->index = rs->nrules;
    aw_grow((void **)&rs->rules, &rs->caprules, rs->nrules, sizeof *rs->rules);
    rs->rules[rs->nrules++] = r;
    return 0;
}

aw_status aw_ruleset_load_buffer(aw_ruleset *rs, const char *name, const char *buf, size_t len,
                                 aw_diag_fn diag, void *ud)
{
    loadctx lc = {{rs, aw_arena_strdup(&rs->arena, name), diag, ud, NULL}, AW_OK, 0};
    aw_errbuf err;
    unsigned eline = 0;
    aw_status rc = aw_ytree_parse(&rs->arena, buf, len, add_doc, &lc, &eline, &err);
    if (rc != AW_OK) {
        bool dup = strncmp(err.msg, "duplicate key", 13) == 0;
        aw_rule_reject(&lc.cx, eline, dup ? "duplicate-key" : "yaml-syntax", "%s", err.msg);
        rs->rejected++;
    }
    return AW_OK;
}

static bool is_yaml(const char *p)
{
    size_t n = strlen(p);
    return (n > 4 && strcmp(p + n - 4, ".yml") == 0) || (n > 5 && strcmp(p + n - 5, ".yaml") == 0);
}

typedef struct walkctx {
    aw_ruleset *rs;
    aw_diag_fn diag;
    void *ud;
    bool explicit_file;
    aw_status rc;
} walkctx;

static int load_one(const char *path, void *ud)
{
    walkctx *w = ud;
    aw_errbuf err;
    size_t len;
    if (!w->explicit_file && !is_yaml(path))
        return 0;
    char *buf = slurp(path, &len, &err);
    if (!buf) {
        if (w->diag)
            w->diag(w->ud, path, 0, "io", err.msg);
        w->rc = AW_EIO;
        return 0;
    }
    aw_ruleset_load_buffer(w->rs, path, buf, len, w->diag, w->ud);
    free(buf);
    return 0;
}

aw_status aw_ruleset_load(aw_ruleset *rs, const char *path, aw_diag_fn diag, void *ud)
{
    struct stat st;
    walkctx w = {rs, diag, ud, false, AW_OK};
    aw_errbuf err;
    if (stat(path, &st) != 0) {
        if (diag)
            diag(ud, path, 0, "io", strerror(errno));
        return AW_EIO;
    }
    w.explicit_file = !S_ISDIR(st.st_mode);
    if (aw_input_walk(path, load_one, &w, &err) != AW_OK) {
        if (diag)
            diag(ud, path, 0, "io", err.msg);
        return AW_EIO;
    }
    return w.rc;
}

size_t aw_ruleset_count(const aw_ruleset *rs) { return rs->nrules; }
size_t aw_ruleset_rejected(const aw_ruleset *rs) { return rs->rejected; }

const aw_rule *aw_ruleset_rule(const aw_ruleset *rs, size_t i)
{
    return i < rs->nrules ? rs->rules[i] : NULL;
}

/* Ids and names are indexed in an open-addressing hash table so that
 * loading thousands of rules and resolving references stay linear. */
static uint64_t ref_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void ref_put(aw_ruleset *rs, const char *key, aw_rule *r)
{
    size_t mask = rs->refcap - 1, i = ref_hash(key) & mask;
    while (rs->refs[i].key)
        i = (i + 1) & mask;
    rs->refs[i].key = key;
    rs->refs[i].rule = r;
    rs->nrefs++;
}

static void ref_index_add(aw_ruleset *rs, aw_rule *r)
{
    if (2 * (rs->nrefs + 2) > rs->refcap) {
        struct aw_refslot *old = rs->refs;
        size_t oldcap = rs->refcap;
        rs->refcap = rs->refcap ? rs->refcap * 2 : 256;
        rs->refs = aw_xcalloc(rs->refcap, sizeof *rs->refs);
        rs->nrefs = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].key)
                ref_put(rs, old[i].key, old[i].rule);
        free(old);
    }
    if (r->id)
        ref_put(rs, r->id, r);
    if (r->name)
        ref_put(rs, r->name, r);
}

static uint64_t lit_hash(int field, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(field + 1) * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 1099511628211ull;
    }
    return h;
}

static void lit_slot(aw_ruleset *rs, uint32_t id1)
{
    size_t mask = rs->lithcap - 1, i = lit_hash(rs->litfield[id1 - 1], rs->lits[id1 - 1], rs->litn[id1 - 1]) & mask;
    while (rs->lithash[i])
        i = (i + 1) & mask;
    rs->lithash[i] = id1;
}

uint32_t aw_ruleset_lit(aw_ruleset *rs, int field, const char *s, size_t n)
{
    if (rs->lithcap) {
        size_t mask = rs->lithcap - 1;
        for (size_t i = lit_hash(field, s, n) & mask; rs->lithash[i]; i = (i + 1) & mask) {
            uint32_t id1 = rs->lithash[i];
            if (rs->litn[id1 - 1] == n && rs->litfield[id1 - 1] == field &&
                strncasecmp(rs->lits[id1 - 1], s, n) == 0)
                return id1;
        }
    }
    if (2 * (rs->nlits + 1) > rs->lithcap) {
        free(rs->lithash);
        rs->lithcap = rs->lithcap ? rs->lithcap * 2 : 1024;
        rs->lithash = aw_xcalloc(rs->lithcap, sizeof *rs->lithash);
        for (size_t i = 0; i < rs->nlits; i++)
            lit_slot(rs, (uint32_t)i + 1);
    }
    if (rs->nlits == rs->caplits) {
        rs->caplits = rs->caplits ? rs->caplits * 2 : 1024;
        rs->lits = aw_xrealloc(rs->lits, rs->caplits * sizeof *rs->lits);
        rs->litn = aw_xrealloc(rs->litn, rs->caplits * sizeof *rs->litn);
        rs->litfield = aw_xrealloc(rs->litfield, rs->caplits * sizeof *rs->litfield);
    }
    char *f = aw_xstrndup(s, n);
    aw_fold_ascii(f, f, n);
    rs->lits[rs->nlits] = f;
    rs->litfield[rs->nlits] = field;
    rs->litn[rs->nlits++] = n;
    lit_slot(rs, (uint32_t)rs->nlits);
    return (uint32_t)rs->nlits;
}

const aw_rule *aw_ruleset_find(const aw_ruleset *rs, const char *ref)
{
    if (!rs->refcap)
        return NULL;
    size_t mask = rs->refcap - 1;
    for (size_t i = ref_hash(ref) & mask; rs->refs[i].key; i = (i + 1) & mask)
        if (strcmp(rs->refs[i].key, ref) == 0)
            return rs->refs[i].rule;
    return NULL;
}

/* ---- rule accessors ------------------------------------------------------- */
aw_rule_kind aw_rule_kind_of(const aw_rule *r) { return r->kind; }
const char *aw_rule_id(const aw_rule *r) { return r->id; }
const char *aw_rule_name(const aw_rule *r) { return r->name; }
const char *aw_rule_title(const aw_rule *r) { return r->title; }
const char *aw_rule_level(const aw_rule *r) { return r->level; }
const char *aw_rule_status(const aw_rule *r) { return r->status; }
const char *aw_rule_author(const aw_rule *r) { return r->author; }
const char *aw_rule_path(const aw_rule *r) { return r->path; }
unsigned aw_rule_line(const aw_rule *r) { return r->line; }
size_t aw_rule_tag_count(const aw_rule *r) { return r->ntags; }
const char *aw_rule_tag(const aw_rule *r, size_t i) { return i < r->ntags ? r->tags[i] : NULL; }

const char *aw_rule_logsource(const aw_rule *r, const char *attr)
{
    if (strcmp(attr, "product") == 0)
        return r->ls_product;
    if (strcmp(attr, "category") == 0)
        return r->ls_category;
    if (strcmp(attr, "service") == 0)
        return r->ls_service;
    return NULL;
}

const char *aw_rule_attr(const aw_rule *r, const char *key)
{
    aw_ynode *v = aw_ymap_get(r->doc, key);
    return v && v->type == AW_Y_SCALAR ? v->text : NULL;
}
