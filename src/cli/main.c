/* main.c -- the modpipe program: the command line of mp_main() over an
 * empty pipeline, which loads the pipeline file named on the command line. */
#include "modpipe.h"

int main(int argc, char **argv)
{
    mp_pipeline *p = mp_pipeline_new(NULL);
    int rc = mp_main(p, argc, argv);
    mp_pipeline_free(p);
    return rc;
}
