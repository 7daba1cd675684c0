/* fuzz_condition.c - libFuzzer target for the condition parser:
 * arbitrary text against a fixed set of search identifiers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigma/sigma_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"selection", "selection_img", "filter_main", "filter_opt",
                                        "_private", "keywords", "not_a_keyword", "1", "all"};
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    aw_arena a;
    aw_arena_init(&a);
    const char *kind = NULL;
    aw_errbuf err;
    aw_cnode *c = aw_cond_parse(&a, text, names, sizeof names / sizeof *names, &kind, &err);
    if (c)
        aw_cond_render(&a, c, names);
    else if (!kind)
        abort();                /* every failure must carry a reason code */
    aw_arena_reset(&a);
    free(text);
    return 0;
}
