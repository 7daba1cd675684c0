/* corr.c - parse and validate Sigma correlation documents.
 *
 * Structure and per-type requirements follow the correlation spec
 * v2.1: a range condition (gt + lte, AND-ed) is accepted as the spec
 * allows; group-by is optional (absent = one global group); timespan is
 * <digits><s|m|h|d|w|M|y>, positive. References are resolved against
 * the whole collection when the plan is built. */
#include <string.h>

#include "sigma/sigma_int.h"

static const char *const type_names[] = {
    "event_count", "value_count", "temporal", "temporal_ordered",
    "value_sum", "value_avg", "value_percentile"};
static const char *const op_names[6] = {"gt", "gte", "lt", "lte", "eq", "neq"};

bool aw_timespan_parse(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n < 2)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10 / 31556952)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    static const struct { char u; int64_t mul; } units[] = {
        {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800},
        {'M', 2629746}, {'y', 31556952}};
    for (size_t k = 0; k < sizeof units / sizeof *units; k++)
        if (s[n - 1] == units[k].u) {
            *out = v * units[k].mul;
            return v > 0;
        }
    return false;
}

static bool strs(aw_rctx *cx, aw_ynode *n, const char *what, const char ***out, size_t *nout)
{
    aw_arena *a = &cx->rs->arena;
    *nout = 0;
    if (n->type == AW_Y_SCALAR) {
        *out = aw_arena_alloc(a, sizeof **out);
        (*out)[(*nout)++] = n->text;
        return true;
    }
    if (n->type != AW_Y_SEQ || n->n == 0) {
        aw_rule_reject(cx, n->line, "invalid-correlation", "'%s' must be a string or a non-empty list of strings", what);
        return false;
    }
    *out = aw_arena_alloc(a, n->n * sizeof **out);
    for (size_t i = 0; i < n->n; i++) {
        if (n->kids[i]->type != AW_Y_SCALAR) {
            aw_rule_reject(cx, n->kids[i]->line, "invalid-correlation", "'%s' must list strings", what);
            return false;
        }
        (*out)[(*nout)++] = n->kids[i]->text;
    }
    return true;
}

/* Every key of map n is a scalar (YAML allows `{a: 1}: x`). */
static bool scalar_keys(aw_rctx *cx, aw_ynode *n, const char *what)
{
    for (size_t i = 0; i < n->n; i++)
        if (!aw_ymap_key(n, i)->text) {
            aw_rule_reject(cx, aw_ymap_key(n, i)->line, "invalid-correlation", "%s keys must be strings", what);
            return false;
        }
    return true;
}

static bool condition(aw_rctx *cx, aw_corr *c, aw_ynode *cond)
{
    if (cond->type != AW_Y_MAP) {
        aw_rule_reject(cx, cond->line, "invalid-correlation", "correlation condition must be a map");
        return false;
    }
    size_t nops = 0;
    if (!scalar_keys(cx, cond, "condition"))
        return false;
    for (size_t i = 0; i < cond->n; i++) {
        aw_ynode *k = aw_ymap_key(cond, i), *v = aw_ymap_val(cond, i);
        if (strcmp(k->text, "field") == 0) {
            if (!strs(cx, v, "condition.field", &c->cond_fields, &c->ncond_fields))
                return false;
            continue;
        }
        aw_yval yv = aw_yscalar_resolve(v);
        if (strcmp(k->text, "percentile") == 0) {
            if (yv.type != AW_YV_INT || yv.i < 0 || yv.i > 100) {
                aw_rule_reject(cx, v->line, "invalid-correlation", "percentile must be an integer 0..100");
                return false;
            }
            c->percentile = (double)yv.i;
            continue;
        }
        size_t op;
        for (op = 0; op < 6; op++)
            if (strcmp(k->text, op_names[op]) == 0)
                break;
        if (op == 6) {
            aw_rule_reject(cx, k->line, "invalid-correlation",
                           "unknown correlation condition '%s' (expected gt, gte, lt, lte, eq, neq, field)", k->text);
            return false;
        }
        if (yv.type != AW_YV_INT && yv.type != AW_YV_FLOAT) {
            aw_rule_reject(cx, v->line, "invalid-correlation", "condition '%s' needs a number, got '%s'",
                           k->text, v->type == AW_Y_SCALAR ? v->text : "?");
            return false;
        }
        c->has_cond[op] = true;
        c->cond[op] = yv.f;
        nops++;
    }
    if (nops == 0) {
        aw_rule_reject(cx, cond->line, "invalid-correlation", "correlation condition has no operator");
        return false;
    }
    return true;
}

bool aw_corr_compile(aw_rctx *cx, aw_rule *r, aw_ynode *doc)
{
    aw_arena *a = &cx->rs->arena;
    aw_ynode *cm = aw_ymap_get(doc, "correlation");
    aw_corr *c = aw_arena_alloc(a, sizeof *c);
    r->corr = c;
    if (cm->type != AW_Y_MAP) {
        aw_rule_reject(cx, cm->line, "invalid-correlation", "'correlation' must be a map");
        return false;
    }
    static const char *const known[] = {"type", "rules", "group-by", "timespan", "aliases",
                                        "condition", "generate", NULL};
    if (!scalar_keys(cx, cm, "correlation"))
        return false;
    for (size_t i = 0; i < cm->n; i++) {
        const char *k = aw_ymap_key(cm, i)->text;
        size_t j;
        for (j = 0; known[j]; j++)
            if (strcmp(k, known[j]) == 0)
                break;
        if (!known[j]) {
            aw_rule_reject(cx, aw_ymap_key(cm, i)->line, "invalid-correlation", "unknown correlation key '%s'", k);
            return false;
        }
    }
    aw_ynode *t = aw_ymap_get(cm, "type");
    size_t ti = 7;
    if (t && t->type == AW_Y_SCALAR)
        for (ti = 0; ti < 7; ti++)
            if (strcmp(t->text, type_names[ti]) == 0)
                break;
    if (ti == 7) {
        aw_rule_reject(cx, t ? t->line : cm->line, "invalid-correlation",
                       "correlation type must be one of event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile");
        return false;
    }
    c->type = (aw_corrtype)ti;
    aw_ynode *rules = aw_ymap_get(cm, "rules");
    if (!rules) {
        aw_rule_reject(cx, cm->line, "invalid-correlation", "correlation has no 'rules'");
        return false;
    }
    if (!strs(cx, rules, "rules", &c->rules, &c->nrules))
        return false;
    aw_ynode *gb = aw_ymap_get(cm, "group-by");
    if (gb && !strs(cx, gb, "group-by", &c->group_by, &c->ngroup))
        return false;
    aw_ynode *ts = aw_ymap_get(cm, "timespan");
    if (!ts || ts->type != AW_Y_SCALAR || !aw_timespan_parse(ts->text, &c->timespan_s)) {
        aw_rule_reject(cx, ts ? ts->line : cm->line, "invalid-correlation",
                       "timespan must be a positive integer followed by s, m, h, d, w, M or y (got '%s')",
                       ts && ts->type == AW_Y_SCALAR ? ts->text : "");
        return false;
    }
    aw_ynode *al = aw_ymap_get(cm, "aliases");
    if (al) {
        if (al->type != AW_Y_MAP) {
            aw_rule_reject(cx, al->line, "invalid-correlation", "aliases must be a map");
            return false;
        }
        if (!scalar_keys(cx, al, "aliases"))
            return false;
        c->aliases = aw_arena_alloc(a, (al->n ? al->n : 1) * sizeof *c->aliases);
        for (size_t i = 0; i < al->n; i++) {
            aw_ynode *m = aw_ymap_val(al, i);
            aw_corr_alias *x = &c->aliases[c->naliases++];
            x->name = aw_ymap_key(al, i)->text;
            if (m->type != AW_Y_MAP || m->n == 0) {
                aw_rule_reject(cx, m->line, "invalid-correlation", "alias '%s' must map rule names to fields", x->name);
                return false;
            }
            if (!scalar_keys(cx, m, "alias"))
                return false;
            x->rules = aw_arena_alloc(a, m->n * sizeof *x->rules);
            x->fields = aw_arena_alloc(a, m->n * sizeof *x->fields);
            for (size_t j = 0; j < m->n; j++) {
                if (aw_ymap_val(m, j)->type != AW_Y_SCALAR) {
                    aw_rule_reject(cx, aw_ymap_val(m, j)->line, "invalid-correlation", "alias field must be a string");
                    return false;
                }
                x->rules[x->n] = aw_ymap_key(m, j)->text;
                x->fields[x->n++] = aw_ymap_val(m, j)->text;
            }
        }
    }
    aw_ynode *cond = aw_ymap_get(cm, "condition");
    if (cond && !condition(cx, c, cond))
        return false;
    bool temporal = c->type == CT_TEMPORAL || c->type == CT_TEMPORAL_ORDERED;
    if (!cond && !temporal) {
        aw_rule_reject(cx, cm->line, "invalid-correlation", "%s correlation needs a condition", type_names[ti]);
        return false;
    }
    if (!cond) {                        /* pySigma default: all rules matched */
        c->has_cond[1] = true;
        c->cond[1] = (double)c->nrules;
    }
    bool needs_field = c->type == CT_VALUE_COUNT || c->type == CT_VALUE_SUM ||
                       c->type == CT_VALUE_AVG || c->type == CT_VALUE_PERCENTILE;
    if (needs_field && c->ncond_fields == 0) {
        aw_rule_reject(cx, cond->line, "invalid-correlation", "%s correlation needs condition.field", type_names[ti]);
        return false;
    }
    if (c->type == CT_VALUE_PERCENTILE && !aw_ymap_get(cond, "percentile"))
        c->percentile = 50;
    aw_ynode *gen = aw_ymap_get(cm, "generate");
    if (!gen)
        gen = aw_ymap_get(doc, "generate");
    if (gen) {
        aw_yval g = aw_yscalar_resolve(gen);
        if (g.type != AW_YV_BOOL) {
            aw_rule_reject(cx, gen->line, "invalid-correlation", "generate must be true or false");
            return false;
        }
        c->generate = g.b;
    }
    return true;
}
