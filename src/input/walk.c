/* walk.c - expanding input arguments into files.
 *
 * A regular file (or anything that is not a directory, such as a FIFO
 * given explicitly) is itself; "-" is stdin; a directory is every
 * regular file below it, depth-first, in byte order of the full path
 * (entries are sorted with directories compared as "name/"). Entries
 * whose name starts with '.' are skipped. Below the top level, symbolic
 * links to files are followed but symbolic links to directories are not,
 * so link loops cannot make the walk endless; other file types (sockets,
 * devices, FIFOs) are skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aupwatch/aw_input.h"

typedef struct ent {
    char *name;     /* sort key: name, plus '/' for directories */
    int is_dir;
} ent;

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const ent *)a)->name, ((const ent *)b)->name);
}

static char *join(const char *dir, const char *name, size_t nlen)
{
    size_t dlen = strlen(dir);
    char *p = malloc(dlen + nlen + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, dlen);
    if (dlen && dir[dlen - 1] != '/')
        p[dlen++] = '/';
    memcpy(p + dlen, name, nlen);
    p[dlen + nlen] = '\0';
    return p;
}

static aw_status walk_dir(const char *dir, aw_walk_fn fn, void *ud,
                          aw_errbuf *err, int *stop)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    ent *v = NULL;
    size_t n = 0, cap = 0, i;
    aw_status st = AW_OK;
    if (!dh) {
        aw_errbuf_set(err, "%s: %s", dir, strerror(errno));
        return AW_EIO;
    }
    while ((de = readdir(dh))) {
        struct stat sb;
        size_t nlen;
        int is_dir;
        if (de->d_name[0] == '.')
            continue;
        nlen = strlen(de->d_name);
        /* the entry's type from the directory itself where the file
         * system gives it (no stat per file), else asked relative to the
         * directory (no walk of the full path) */
        if (de->d_type == DT_REG || de->d_type == DT_DIR) {
            is_dir = de->d_type == DT_DIR;
        } else {
            if (fstatat(dirfd(dh), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
                continue;           /* vanished meanwhile */
            /* follow links to files only */
            if (S_ISLNK(sb.st_mode) &&
                (fstatat(dirfd(dh), de->d_name, &sb, 0) != 0 || !S_ISREG(sb.st_mode)))
                continue;
            if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
                continue;
            is_dir = S_ISDIR(sb.st_mode);
        }
        if (n == cap) {
            ent *nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof *v);
            if (!nv)
                goto oom;
            v = nv;
        }
        v[n].name = malloc(nlen + 2);
        if (!v[n].name)
            goto oom;
        memcpy(v[n].name, de->d_name, nlen);
        v[n].name[nlen] = is_dir ? '/' : '\0';
        v[n].name[nlen + 1] = '\0';
        v[n].is_dir = is_dir;
        n++;
    }
    closedir(dh);
    dh = NULL;
    qsort(v, n, sizeof *v, ent_cmp);
    for (i = 0; i < n && st == AW_OK && !*stop; i++) {
        size_t nlen = strlen(v[i].name) - (size_t)v[i].is_dir;
        char *full = join(dir, v[i].name, nlen);
        if (!full)
            goto oom;
        if (v[i].is_dir) {
            st = walk_dir(full, fn, ud, err, stop);
        } else {
            int rc = fn(full, ud);
            if (rc)
                *stop = rc;
        }
        free(full);
    }
    goto out;
oom:
    aw_errbuf_set(err, "%s: out of memory", dir);
    st = AW_EIO;
out:
    if (dh)
        closedir(dh);
    for (i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    return st;
}

aw_status aw_input_walk(const char *path, aw_walk_fn fn, void *ud,
                        aw_errbuf *err)
{
    struct stat sb;
    int stop = 0;
    aw_status st;
    if (strcmp(path, "-") == 0)
        return (aw_status)fn(path, ud);
    if (stat(path, &sb) != 0) {
        aw_errbuf_set(err, "%s: %s", path, strerror(errno));
        return AW_EIO;
    }
    if (!S_ISDIR(sb.st_mode))
        return (aw_status)fn(path, ud);
    st = walk_dir(path, fn, ud, err, &stop);
    if (st != AW_OK)
        return st;
    return (aw_status)stop;
}
