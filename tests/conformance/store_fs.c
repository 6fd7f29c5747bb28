/* store_fs.c -- the store conformance suite against the file:// store. */
#include "store_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *url_new(void)
{
    char tmpl[] = "/tmp/mp-store-conf-XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    /* A subdirectory that does not exist yet: open must create it. */
    size_t n = strlen(tmpl) + 32;
    char *url = malloc(n);
    snprintf(url, n, "file://%s/store", tmpl);
    return url;
}

static void url_free(char *url)
{
    char cmd[512];
    const char *dir = url + strlen("file://");
    size_t n = strlen(dir) - strlen("/store");
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)n, dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %.*s\n", (int)n, dir);
    free(url);
}

const store_backend store_backend_under_test = {"fs", url_new, url_free};

int main(int argc, char **argv)
{
    return store_conf_main(argc, argv);
}
