/*
 * fuzz_load.c -- libFuzzer target: any bytes through the YAML loader and,
 * when they load, through validation, JSON rendering and planning. The
 * loader must report a problem or succeed, never crash, leak or hang.
 */
#include "core/pipeline_json.h"
#include "core/plan.h"
#include "modpipe.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    if (mp_pipeline_load_string(p, (const char *)data, size, "fuzz.yml", &err) == 0 &&
        mp_pipeline_validate(p, &err) == 0) {
        json_t *j = mp__pipeline_to_json(p, 1);
        json_decref(j);
        mp_plan plan;
        mp_filters none = {0};
        if (mp__plan_build(p, &none, &plan, &err) == 0)
            mp__plan_release(&plan);
    }
    for (size_t i = 0; i < mp_pipeline_problem_count(p); i++)
        (void)mp_pipeline_problem(p, i);
    mp_pipeline_free(p);
    return 0;
}
