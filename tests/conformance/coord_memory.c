/* coord_memory.c -- the conformance suite against the in-memory backend. */
#include "coord_backend.h"
#include "coord/memory/memory.h"

static void *run_new(const char *run_id)
{
    (void)run_id;
    return mp__coord_memory_hub_new();
}

static void run_opts(void *run, const char *run_id, mp_coord_open_opts *o)
{
    o->url = "memory:";
    o->run_id = run_id;
    o->memory_hub = run;
}

static void run_free(void *run)
{
    mp__coord_memory_hub_free(run);
}

const conf_backend conf_backend_under_test = {"memory", run_new, run_opts, run_free};

int main(int argc, char **argv)
{
    return conf_main(argc, argv);
}
