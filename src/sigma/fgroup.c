/* fgroup.c - field values read by object rather than path by path.
 *
 * A Windows event's fields are all members of one object: a rule's
 * `CommandLine` is `Event.EventData.CommandLine`, and an event has about
 * fifteen such fields looked up, each from the root (the root's member,
 * then Event's, then a walk along EventData's twenty-odd members). The
 * fields whose first path is P.name, name without dots, form P's group:
 * on the first lookup in an event of a field of the group, P is walked
 * once and every member that names one of its fields fills that field's
 * values (aw_match_field's cache), by a hash of the member's name. A
 * field that no member names goes on to its next paths, as before. Only
 * where the last event read at least FG_MIN_READS of the group's fields:
 * a CloudTrail record reads two or three of an object's (userIdentity's),
 * and walking it whole cost more than those lookups.
 *
 * Same answers as the path walk: only where P is reached member by
 * member, through no array and no dotted name (aw_jpath_plain_object);
 * the first member of a name decides, as the walk's linear lookup does;
 * dropped members are skipped; the member's value is expanded as a
 * path's end (aw_json_each_value).
 * AUPWATCH_FIELD_GROUPS=0 turns groups off (the differential test's
 * reference path). */
#include <stdlib.h>
#include <string.h>

#include "sigma/match_int.h"

#define FG_MAX 16               /* groups per matcher; more: looked up by path */
#define FG_MIN_READS 6          /* fields of a group read in an event for the
                                   next event's to be read by a walk */

typedef struct fg_ent {
    const char *name;           /* NULL: empty slot */
    uint32_t n, h, res;
} fg_ent;

struct aw_fgroup {
    char *prefix;
    aw_jpath *jp;
    uint32_t gen;               /* event filled in (aw_matcher.gen) */
    uint32_t asked_gen;         /* event of its first lookup */
    uint32_t reads, last_reads; /* fields read this event, and in the last
                                   event it was read in (by path or walk) */
    int state;                  /* aw_jpath_plain_object's answer at the fill */
    fg_ent *tab;
    size_t cap, cnt;            /* cap: power of two, at least twice cnt */
};

static void tab_put(aw_fgroup *g, fg_ent e)
{
    size_t mask = g->cap - 1;
    for (size_t j = e.h & mask;; j = (j + 1) & mask)
        if (!g->tab[j].name) {
            g->tab[j] = e;
            return;
        }
}

static void tab_add(aw_fgroup *g, fg_ent e)
{
    if (2 * (g->cnt + 1) > g->cap) {
        fg_ent *old = g->tab;
        size_t ocap = g->cap;
        g->cap = ocap ? 2 * ocap : 16;
        g->tab = aw_xcalloc(g->cap, sizeof *g->tab);
        for (size_t i = 0; i < ocap; i++)
            if (old[i].name)
                tab_put(g, old[i]);
        free(old);
    }
    tab_put(g, e);
    g->cnt++;
}

bool aw_fgroup_enabled(void)
{
    const char *e = getenv("AUPWATCH_FIELD_GROUPS");
    return !(e && strcmp(e, "0") == 0);
}

void aw_fgroup_free_all(aw_fgroup *fg, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(fg[i].prefix);
        aw_jpath_free(fg[i].jp);
        free(fg[i].tab);
    }
    free(fg);
}

void aw_fgroup_reset(aw_matcher *m)
{
    for (size_t i = 0; i < m->nfg; i++)
        m->fg[i].gen = m->fg[i].asked_gen = m->fg[i].reads = m->fg[i].last_reads = 0;
}

/* The group of resolution id res, whose first path is path0: -1 if it
 * has none (a root member, a "*" path, no room). */
static int32_t join(aw_matcher *m, uint32_t res, const char *path0)
{
    const char *dot = strrchr(path0, '.');
    if (!dot || dot == path0 || !dot[1] || strchr(path0, '*'))
        return -1;
    size_t plen = (size_t)(dot - path0);
    size_t g = 0;
    while (g < m->nfg && !(strlen(m->fg[g].prefix) == plen && memcmp(m->fg[g].prefix, path0, plen) == 0))
        g++;
    if (g == m->nfg) {
        aw_jpath *jp = g < FG_MAX ? aw_jpath_new(path0, plen) : NULL;
        if (!jp)
            return -1;
        if (!m->fg)
            m->fg = aw_xcalloc(FG_MAX, sizeof *m->fg);
        m->fg[g] = (aw_fgroup){.prefix = aw_xstrndup(path0, plen), .jp = jp};
        m->nfg++;
    }
    aw_fgroup *gr = &m->fg[g];
    size_t n = strlen(dot + 1);
    tab_add(gr, (fg_ent){dot + 1, (uint32_t)n, aw_json_name_hash(dot + 1, n), res});
    gr->gen = 0;                /* filled without it: fill again */
    return (int32_t)g;
}

/* Walk g's object once, filling the values of every field a member
 * names (those not read yet this event). */
static void fill(aw_matcher *m, aw_fgroup *g)
{
    const aw_jnode *obj;
    g->gen = m->gen;
    m->n_walks++;
    g->state = aw_jpath_plain_object(m->doc, g->jp, &obj);
    if (g->state != 1)
        return;
    const aw_jnode *nodes = aw_doc_root(m->doc);
    size_t mask = g->cap - 1;
    for (uint32_t i = obj->child; i; i = nodes[i].next) {
        const aw_jnode *mb = &nodes[i];
        if (mb->dropped)
            continue;
        uint32_t h = aw_json_name_hash(mb->key, mb->klen), start = 0, count = 0;
        bool read = false;
        for (size_t j = h & mask; g->tab[j].name; j = (j + 1) & mask) {
            const fg_ent *e = &g->tab[j];
            if (e->h != h || e->n != mb->klen || memcmp(e->name, mb->key, e->n) != 0)
                continue;
            if (m->fc[e->res].gen == m->gen || m->rseen[e->res] == m->gen)
                continue;       /* read already, or an earlier member of the name decided */
            m->rseen[e->res] = m->gen;
            if (!read) {
                start = (uint32_t)m->nvals;
                aw_json_each_value(m->doc, mb, aw_match_collect, m);
                count = (uint32_t)m->nvals - start;
                read = true;
            }
            if (count)
                m->fc[e->res] = (fcache){m->gen, start, count, true};
            g->reads++;
        }
    }
}

int aw_fgroup_lookup(aw_matcher *m, uint32_t res, const char *path0)
{
    if (m->rgroup[res] == FG_UNSEEN)
        m->rgroup[res] = join(m, res, path0);
    int32_t gi = m->rgroup[res];
    if (gi < 0)
        return 0;
    aw_fgroup *g = &m->fg[gi];
    if (g->asked_gen != m->gen) {
        g->asked_gen = m->gen;
        g->last_reads = g->reads;
        g->reads = 0;
    }
    g->reads++;
    if (g->gen != m->gen) {
        /* walked at its first field, where the last event read many */
        if (g->last_reads < FG_MIN_READS)
            return 0;
        fill(m, g);
    }
    return g->state >= 0;
}
