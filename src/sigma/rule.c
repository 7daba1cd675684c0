/* rule.c - one YAML document to a compiled rule, filter or correlation.
 *
 * Checks the attributes the specification makes mandatory, rejects the
 * removed v1 constructs (aggregation pipes, near, timeframe, collection
 * actions) by name, and compiles the detection section. Every rejection
 * goes through aw_rule_reject with the line of the offending node. */
#include <stdarg.h>
#include <string.h>

#include "sigma/sigma_int.h"

void aw_rule_reject(aw_rctx *cx, unsigned line, const char *kind, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cx->diag)
        cx->diag(cx->ud, cx->path, line, kind, msg);
}

static const char *scalar(aw_ynode *n)
{
    return n && n->type == AW_Y_SCALAR ? n->text : NULL;
}

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static bool is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

/* A string-list attribute (tags, rules); a single scalar is accepted. */
static bool str_list(aw_rctx *cx, aw_ynode *n, const char *what, const char ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!n)
        return true;
    if (n->type == AW_Y_SCALAR) {
        *out = aw_arena_alloc(&cx->rs->arena, sizeof **out);
        (*out)[0] = n->text;
        *nout = 1;
        return true;
    }
    if (n->type != AW_Y_SEQ) {
        aw_rule_reject(cx, n->line, "invalid-attribute", "'%s' must be a list of strings", what);
        return false;
    }
    *out = aw_arena_alloc(&cx->rs->arena, (n->n ? n->n : 1) * sizeof **out);
    for (size_t i = 0; i < n->n; i++) {
        if (n->kids[i]->type != AW_Y_SCALAR) {
            aw_rule_reject(cx, n->kids[i]->line, "invalid-attribute", "'%s' must be a list of strings", what);
            return false;
        }
        (*out)[(*nout)++] = n->kids[i]->text;
    }
    return true;
}

/* ---- detection -------------------------------------------------------------- */

static bool compile_map(aw_rctx *cx, aw_ynode *m, aw_conj *cj)
{
    cj->items = aw_arena_alloc(aw_rctx_tmp(cx), (m->n ? m->n : 1) * sizeof *cj->items);
    for (size_t i = 0; i < m->n; i++) {
        aw_ynode *k = aw_ymap_key(m, i);
        if (k->type != AW_Y_SCALAR) {
            aw_rule_reject(cx, k->line, "invalid-detection", "field names must be strings");
            return false;
        }
        if (!aw_item_compile(cx, &cj->items[cj->n++], k->text, k->line, aw_ymap_val(m, i)))
            return false;
    }
    return true;
}

static bool compile_search(aw_rctx *cx, aw_search *s, aw_ynode *def)
{
    aw_arena *a = aw_rctx_tmp(cx);
    if (def->type == AW_Y_MAP) {
        if (def->n == 0) {
            aw_rule_reject(cx, def->line, "invalid-detection", "search identifier '%s' is empty", s->name);
            return false;
        }
        s->alts = aw_arena_alloc(a, sizeof *s->alts);
        s->n = 1;
        return compile_map(cx, def, &s->alts[0]);
    }
    /* A scalar or list: keywords (scalars) and/or maps, OR-linked. */
    aw_ynode *one[1] = {def};
    aw_ynode **el = def->type == AW_Y_SEQ ? def->kids : one;
    size_t ne = def->type == AW_Y_SEQ ? def->n : 1;
    if (ne == 0) {
        aw_rule_reject(cx, def->line, "invalid-detection", "search identifier '%s' is an empty list", s->name);
        return false;
    }
    s->alts = aw_arena_alloc(a, ne * sizeof *s->alts);
    /* All scalars: one keyword item whose values are OR-linked. */
    size_t nscalar = 0;
    for (size_t i = 0; i < ne; i++)
        nscalar += el[i]->type == AW_Y_SCALAR;
    if (nscalar == ne) {
        aw_conj *cj = &s->alts[s->n++];
        cj->items = aw_arena_alloc(a, sizeof *cj->items);
        cj->n = 1;
        aw_ynode seq = *def;
        if (def->type != AW_Y_SEQ) {
            seq.type = AW_Y_SEQ;
            seq.kids = one;
            seq.n = 1;
        }
        return aw_item_compile(cx, &cj->items[0], "", def->line, &seq);
    }
    for (size_t i = 0; i < ne; i++) {
        aw_conj *cj = &s->alts[s->n++];
        if (el[i]->type == AW_Y_MAP) {
            if (!compile_map(cx, el[i], cj))
                return false;
        } else if (el[i]->type == AW_Y_SCALAR) {
            cj->items = aw_arena_alloc(a, sizeof *cj->items);
            cj->n = 1;
            if (!aw_item_compile(cx, &cj->items[0], "", el[i]->line, el[i]))
                return false;
        } else {
            aw_rule_reject(cx, el[i]->line, "invalid-detection", "nested list in search identifier '%s'", s->name);
            return false;
        }
    }
    return true;
}

bool aw_detection_compile(aw_rctx *cx, aw_rule *r, aw_ynode *det, bool is_filter)
{
    aw_arena *a = &cx->rs->arena, *ta = aw_rctx_tmp(cx);
    aw_ynode *cond = NULL;
    const char *section = is_filter ? "filter" : "detection";
    if (!det || det->type != AW_Y_MAP) {
        aw_rule_reject(cx, det ? det->line : r->line, "invalid-detection", "'%s' must be a map", section);
        return false;
    }
    r->searches = aw_arena_alloc(ta, (det->n ? det->n : 1) * sizeof *r->searches);
    const char **names = aw_arena_alloc(a, (det->n ? det->n : 1) * sizeof *names);
    for (size_t i = 0; i < det->n; i++) {
        aw_ynode *k = aw_ymap_key(det, i), *v = aw_ymap_val(det, i);
        const char *key = scalar(k);
        if (!key) {
            aw_rule_reject(cx, k->line, "invalid-detection", "search identifiers must be strings");
            return false;
        }
        if (strcmp(key, "condition") == 0) {
            cond = v;
            continue;
        }
        if (strcmp(key, "timeframe") == 0) {
            aw_rule_reject(cx, k->line, "legacy-timeframe",
                           "'timeframe' in detection is Sigma v1 aggregation syntax: write a correlation rule with 'timespan' instead");
            return false;
        }
        if (is_filter && strcmp(key, "rules") == 0)
            continue;
        aw_search *s = &r->searches[r->nsearch];
        s->name = key;
        s->line = k->line;
        names[r->nsearch++] = key;
        if (!compile_search(cx, s, v))
            return false;
    }
    if (!cond) {
        aw_rule_reject(cx, det->line, "missing-condition", "'%s' has no condition", section);
        return false;
    }
    aw_ynode *one[1] = {cond};
    aw_ynode **cl = cond->type == AW_Y_SEQ ? cond->kids : one;
    size_t nc = cond->type == AW_Y_SEQ ? cond->n : 1;
    if (nc == 0 || (is_filter && nc != 1)) {
        aw_rule_reject(cx, cond->line, "invalid-condition", "condition must be %s",
                       is_filter ? "exactly one string" : "a string or a non-empty list of strings");
        return false;
    }
    for (size_t i = 0; i < nc; i++) {
        const char *kind = NULL;
        aw_errbuf err;
        if (cl[i]->type != AW_Y_SCALAR) {
            aw_rule_reject(cx, cl[i]->line, "invalid-condition", "condition must be a string");
            return false;
        }
        aw_cnode *c = aw_cond_parse(ta, cl[i]->text, names, r->nsearch, &kind, &err);
        if (!c) {
            aw_rule_reject(cx, cl[i]->line, kind, "%s (condition '%s')", err.msg, cl[i]->text);
            return false;
        }
        if (!r->cond) {
            r->cond = c;
        } else {                                /* list of conditions = OR */
            aw_cnode *o = aw_arena_alloc(ta, sizeof *o);
            o->t = CN_OR;
            o->n = 2;
            o->kids = aw_arena_alloc(ta, 2 * sizeof *o->kids);
            o->kids[0] = r->cond;
            o->kids[1] = c;
            r->cond = o;
        }
    }
    r->search_names = names;
    aw_rule_pack(a, r);
    return true;
}

/* ---- the document ----------------------------------------------------------- */

static bool meta(aw_rctx *cx, aw_rule *r, aw_ynode *doc)
{
    static const char *const statuses[] = {"stable", "test", "experimental", "deprecated",
                                           "unsupported", NULL};
    static const char *const levels[] = {"informational", "low", "medium", "high", "critical", NULL};
    aw_ynode *t = aw_ymap_get(doc, "title");
    if (!t || !scalar(t) || !*t->text) {
        aw_rule_reject(cx, doc->line, "missing-title", "document has no title");
        return false;
    }
    if (t->len > 256) {
        aw_rule_reject(cx, t->line, "invalid-attribute", "title longer than 256 characters");
        return false;
    }
    r->title = t->text;
    aw_ynode *id = aw_ymap_get(doc, "id");
    if (id) {
        if (!scalar(id) || !is_uuid(id->text)) {
            aw_rule_reject(cx, id->line, "invalid-id", "id '%s' is not a UUID", scalar(id) ? id->text : "");
            return false;
        }
        r->id = id->text;
    }
    aw_ynode *nm = aw_ymap_get(doc, "name");
    if (nm) {
        if (!scalar(nm) || !*nm->text) {
            aw_rule_reject(cx, nm->line, "invalid-attribute", "name must be a non-empty string");
            return false;
        }
        r->name = nm->text;
    }
    aw_ynode *st = aw_ymap_get(doc, "status");
    if (st && (!scalar(st) || !one_of(st->text, statuses))) {
        aw_rule_reject(cx, st->line, "invalid-attribute", "status '%s' is not one of stable, test, experimental, deprecated, unsupported",
                       scalar(st) ? st->text : "");
        return false;
    }
    r->status = st ? st->text : NULL;
    aw_ynode *lv = aw_ymap_get(doc, "level");
    if (lv && (!scalar(lv) || !one_of(lv->text, levels))) {
        aw_rule_reject(cx, lv->line, "invalid-attribute", "level '%s' is not one of informational, low, medium, high, critical",
                       scalar(lv) ? lv->text : "");
        return false;
    }
    r->level = lv ? lv->text : NULL;
    r->author = scalar(aw_ymap_get(doc, "author"));
    if (!str_list(cx, aw_ymap_get(doc, "tags"), "tags", &r->tags, &r->ntags))
        return false;
    aw_ynode *ls = aw_ymap_get(doc, "logsource");
    if (ls) {
        if (ls->type != AW_Y_MAP) {
            aw_rule_reject(cx, ls->line, "invalid-logsource", "logsource must be a map");
            return false;
        }
        r->ls_product = scalar(aw_ymap_get(ls, "product"));
        r->ls_category = scalar(aw_ymap_get(ls, "category"));
        r->ls_service = scalar(aw_ymap_get(ls, "service"));
    }
    return true;
}

/* Checked after the detection, so that removed syntax is named first. */
static bool usable(aw_rctx *cx, aw_rule *r, aw_ynode *doc)
{
    static const char *const dates[] = {"date", "modified"};
    if (r->status && strcmp(r->status, "unsupported") == 0) {
        aw_rule_reject(cx, aw_ymap_get(doc, "status")->line, "status-unsupported",
                       "status 'unsupported': the rule's authors mark it unusable in its current state "
                       "(unsupported log source, fields or syntax)");
        return false;
    }
    for (size_t i = 0; i < 2; i++) {
        aw_ynode *d = aw_ymap_get(doc, dates[i]);
        const char *t = scalar(d);
        if (t && strlen(t) == 10 && t[4] == '/' && t[7] == '/') {
            aw_rule_reject(cx, d->line, "legacy-date",
                           "%s '%s' uses the Sigma v1 format YYYY/MM/DD; Sigma 2 requires YYYY-MM-DD",
                           dates[i], t);
            return false;
        }
    }
    return true;
}

aw_rule *aw_rule_compile(aw_rctx *cx, aw_ynode *doc)
{
    aw_arena *a = &cx->rs->arena;
    if (!doc || doc->type != AW_Y_MAP) {
        aw_rule_reject(cx, doc ? doc->line : 1, "not-a-rule", "a Sigma document must be a YAML map");
        return NULL;
    }
    aw_ynode *action = aw_ymap_get(doc, "action");
    if (action) {
        aw_rule_reject(cx, action->line, "legacy-action",
                       "'action: %s' is Sigma v1 collection syntax (global/reset/repeat), removed in Sigma 2: write each rule in full",
                       scalar(action) ? action->text : "?");
        return NULL;
    }
    aw_rule *r = aw_arena_alloc(a, sizeof *r);
    r->path = cx->path;
    r->line = doc->line;
    r->doc = doc;
    aw_ynode *det = aw_ymap_get(doc, "detection"), *flt = aw_ymap_get(doc, "filter"),
             *cor = aw_ymap_get(doc, "correlation");
    if ((det != NULL) + (flt != NULL) + (cor != NULL) != 1) {
        aw_rule_reject(cx, doc->line, det || flt || cor ? "ambiguous-document" : "missing-detection",
                       det || flt || cor ? "a document must have exactly one of detection, filter, correlation"
                                         : "document has no detection, filter or correlation section");
        return NULL;
    }
    if (!meta(cx, r, doc))
        return NULL;
    if (cor) {
        r->kind = AW_RULE_CORRELATION;
        return aw_corr_compile(cx, r, doc) ? r : NULL;
    }
    if (!aw_ymap_get(doc, "logsource")) {
        aw_rule_reject(cx, doc->line, "missing-logsource", "document has no logsource");
        return NULL;
    }
    if (flt) {
        r->kind = AW_RULE_FILTER;
        aw_ynode *rules = flt->type == AW_Y_MAP ? aw_ymap_get(flt, "rules") : NULL;
        if (!rules) {
            aw_rule_reject(cx, flt->line, "invalid-filter", "filter has no 'rules' list");
            return NULL;
        }
        if (scalar(rules) && strcmp(rules->text, "any") == 0)
            r->filter_any = true;
        else if (!str_list(cx, rules, "filter.rules", &r->filter_rules, &r->nfilter_rules))
            return NULL;
        if (rules->type == AW_Y_SEQ && rules->n == 0)
            r->filter_any = true;
        return aw_detection_compile(cx, r, flt, true) ? r : NULL;
    }
    r->kind = AW_RULE_DETECTION;
    if (!aw_detection_compile(cx, r, det, false))
        return NULL;
    return usable(cx, r, doc) ? r : NULL;
}

void aw_rule_items_each(const aw_rule *r, aw_item_fn fn, void *ud)
{
    for (size_t s = 0; s < r->nsearch; s++)
        for (size_t a = 0; a < r->searches[s].n; a++)
            for (size_t i = 0; i < r->searches[s].alts[a].n; i++)
                fn(&r->searches[s].alts[a].items[i], ud);
}
