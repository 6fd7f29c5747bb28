/*
 * test_s3_xml.c -- the bounded XML reader of S3 responses
 * (artifacts/s3/s3_xml.h): the documents S3 sends, entities and CDATA,
 * and refusals of HTML, garbage and documents over the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "artifacts/s3/s3_http.h"
#include "artifacts/s3/s3_xml.h"

#include <stdlib.h>
#include <string.h>

static int parse(mp_s3_xml *x, const char *s, mp_error *err)
{
    return mp__s3_xml_parse(x, s, strlen(s), err);
}

static void test_list_result(void **state)
{
    (void)state;
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>tok+/=</NextContinuationToken>"
        "<Contents><Key>p/a &amp; b</Key><Size>12</Size><ETag>&quot;abc&quot;</ETag></Contents>\n"
        "  <Contents>\n <Key>p/&#233;t&#xE9;</Key><Size>0</Size></Contents>"
        "<!-- comment --><Empty/></ListBucketResult>\n";
    mp_s3_xml x;
    mp_error err = {0};
    assert_int_equal(parse(&x, doc, &err), 0);
    assert_string_equal(x.nodes[0].name, "ListBucketResult");
    assert_string_equal(mp__s3_xml_child_text(&x, 0, "IsTruncated"), "true");
    assert_string_equal(mp__s3_xml_child_text(&x, 0, "NextContinuationToken"), "tok+/=");
    int c1 = mp__s3_xml_child(&x, 0, "Contents", -1);
    int c2 = mp__s3_xml_child(&x, 0, "Contents", c1);
    assert_true(c1 > 0 && c2 > c1);
    assert_int_equal(mp__s3_xml_child(&x, 0, "Contents", c2), -1);
    assert_string_equal(mp__s3_xml_child_text(&x, c1, "Key"), "p/a & b");
    assert_string_equal(mp__s3_xml_child_text(&x, c1, "ETag"), "\"abc\"");
    assert_string_equal(mp__s3_xml_child_text(&x, c2, "Key"), "p/\xc3\xa9t\xc3\xa9");
    assert_string_equal(mp__s3_xml_child_text(&x, 0, "Empty"), "");
    assert_null(mp__s3_xml_child_text(&x, 0, "Missing"));
    /* Key is a child of Contents, not of the root */
    assert_null(mp__s3_xml_child_text(&x, 0, "Key"));
    mp__s3_xml_release(&x);
    mp__s3_xml_release(&x); /* idempotent */
}

static void test_error_and_cdata(void **state)
{
    (void)state;
    const char *doc = "<Error><Code>NoSuchKey</Code><Message><![CDATA[a <b> & c]]></Message>"
                      "<Key>k</Key></Error>";
    char *code = NULL, *msg = NULL;
    assert_int_equal(mp__s3_error_of(doc, strlen(doc), &code, &msg), 0);
    assert_string_equal(code, "NoSuchKey");
    assert_string_equal(msg, "a <b> & c");
    free(code);
    free(msg);
    const char *other = "<ListBucketResult/>";
    assert_int_not_equal(mp__s3_error_of(other, strlen(other), &code, &msg), 0);
    assert_null(code);
}

static void test_refusals(void **state)
{
    (void)state;
    struct {
        const char *doc, *why;
    } bad[] = {
        {"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"},
        {"<html><body><p>hi</body></html>", "mismatched"},
        {"", "empty"},
        {"   ", "empty"},
        {"not xml at all", "not XML"},
        {"{\"json\": true}", "not XML"},
        {"<a><b></a></b>", "mismatched"},
        {"<a>text", "end of the document"},
        {"<a></a><b></b>", "after the root"},
        {"<a></a>trailing", "after the root"},
        {"<a>&nbsp;</a>", "entity"},
        {"<a>&#0;</a>", "character reference"},
        {"<a>&#xD800;</a>", "character reference"},
        {"<a b=c></a>", "unquoted"},
        {"<a><!-- x </a>", "comment"},
        {"<1a></1a>", "element name"},
        {"</a>", "end tag without a start tag"},
        {"<a><![CDATA[x</a>", "CDATA"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mp_s3_xml x;
        mp_error err = {0};
        int rc = parse(&x, bad[i].doc, &err);
        if (rc != MP_EPARSE || !strstr(err.message, bad[i].why))
            fail_msg("'%s': rc %d, '%s' (wanted '%s')", bad[i].doc, rc, err.message, bad[i].why);
        assert_null(x.nodes);
    }
    /* a NUL byte inside */
    mp_s3_xml x;
    mp_error err = {0};
    assert_int_equal(mp__s3_xml_parse(&x, "<a>\0</a>", 8, &err), MP_EPARSE);
    assert_non_null(strstr(err.message, "NUL"));
}

static void test_limits(void **state)
{
    (void)state;
    /* nesting: 16 levels are fine, 17 are not */
    char doc[512] = "";
    for (int i = 0; i < MP_S3_XML_MAX_DEPTH; i++) strcat(doc, "<a>");
    for (int i = 0; i < MP_S3_XML_MAX_DEPTH; i++) strcat(doc, "</a>");
    mp_s3_xml x;
    mp_error err = {0};
    assert_int_equal(parse(&x, doc, &err), 0);
    assert_int_equal(x.n, MP_S3_XML_MAX_DEPTH);
    assert_int_equal(x.nodes[MP_S3_XML_MAX_DEPTH - 1].parent, MP_S3_XML_MAX_DEPTH - 2);
    mp__s3_xml_release(&x);
    char deep[512] = "";
    for (int i = 0; i <= MP_S3_XML_MAX_DEPTH; i++) strcat(deep, "<a>");
    for (int i = 0; i <= MP_S3_XML_MAX_DEPTH; i++) strcat(deep, "</a>");
    assert_int_equal(parse(&x, deep, &err), MP_EPARSE);
    assert_non_null(strstr(err.message, "too deep"));
    /* size */
    size_t big = MP_S3_XML_MAX_BYTES + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    assert_int_equal(mp__s3_xml_parse(&x, huge, big, &err), MP_EPARSE);
    assert_non_null(strstr(err.message, "limit"));
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_result),
        cmocka_unit_test(test_error_and_cdata),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
