/*
 * s3_xml.c -- the bounded XML reader of s3_xml.h.
 *
 * One pass over the input with a cursor. Names and decoded texts are
 * copied into one arena sized 2 * len + 2 up front (every name and text is
 * at most as long as its source, plus a NUL each), so pointers into it
 * stay valid and nothing grows but the node array (capped).
 */
#include "artifacts/s3/s3_xml.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct rd {
    const char *s;
    size_t len, pos;
    char *out; /* arena write position */
    mp_s3_xml *x;
    size_t cap;
    mp_error *err;
} rd;

static int fail(rd *r, const char *what)
{
    return mp__error(r->err, MP_EPARSE, "", "malformed XML in the S3 response at byte %zu: %s",
                     r->pos, what);
}

static bool starts(const rd *r, const char *lit)
{
    size_t n = strlen(lit);
    return r->len - r->pos >= n && memcmp(r->s + r->pos, lit, n) == 0;
}

static bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

static void skip_space(rd *r)
{
    while (r->pos < r->len && is_space(r->s[r->pos])) r->pos++;
}

static bool name_start(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' || ch == ':' ||
           ch >= 0x80;
}

static bool name_char(unsigned char ch)
{
    return name_start(ch) || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

/* Reads a name into the arena; returns it or NULL. */
static const char *read_name(rd *r)
{
    if (r->pos >= r->len || !name_start((unsigned char)r->s[r->pos])) return NULL;
    const char *start = r->out;
    while (r->pos < r->len && name_char((unsigned char)r->s[r->pos])) *r->out++ = r->s[r->pos++];
    *r->out++ = '\0';
    return start;
}

/* Skips to after `end` (for comments, the prolog, CDATA); false at EOF. */
static bool skip_past(rd *r, const char *end)
{
    size_t n = strlen(end);
    while (r->len - r->pos >= n) {
        if (memcmp(r->s + r->pos, end, n) == 0) {
            r->pos += n;
            return true;
        }
        r->pos++;
    }
    r->pos = r->len;
    return false;
}

static void put_utf8(rd *r, uint32_t cp)
{
    if (cp < 0x80) {
        *r->out++ = (char)cp;
    } else if (cp < 0x800) {
        *r->out++ = (char)(0xC0 | cp >> 6);
        *r->out++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *r->out++ = (char)(0xE0 | cp >> 12);
        *r->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *r->out++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *r->out++ = (char)(0xF0 | cp >> 18);
        *r->out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *r->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *r->out++ = (char)(0x80 | (cp & 0x3F));
    }
}

/* At '&': decodes one reference into the arena. A reference is at least 4
 * bytes ("&lt;") and its UTF-8 at most 4, so the arena bound holds. */
static int entity(rd *r)
{
    static const struct { const char *name; char ch; } named[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (starts(r, named[i].name)) {
            *r->out++ = named[i].ch;
            r->pos += strlen(named[i].name);
            return 0;
        }
    if (!starts(r, "&#")) return fail(r, "unknown entity");
    r->pos += 2;
    bool hex = r->pos < r->len && r->s[r->pos] == 'x';
    if (hex) r->pos++;
    uint32_t cp = 0;
    int digits = 0;
    while (r->pos < r->len && r->s[r->pos] != ';') {
        char ch = r->s[r->pos];
        int v = ch >= '0' && ch <= '9' ? ch - '0'
                : hex && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : hex && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                : -1;
        if (v < 0 || ++digits > 7) return fail(r, "bad character reference");
        cp = cp * (hex ? 16u : 10u) + (uint32_t)v;
        r->pos++;
    }
    if (r->pos >= r->len || digits == 0 || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(r, "bad character reference");
    r->pos++; /* ';' */
    put_utf8(r, cp);
    return 0;
}

static int add_node(rd *r, const char *name, int parent)
{
    mp_s3_xml *x = r->x;
    if (x->n >= MP_S3_XML_MAX_NODES) return fail(r, "too many elements");
    if (x->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        x->nodes = mp__xrealloc(x->nodes, mp__xmul(r->cap, sizeof *x->nodes));
    }
    x->nodes[x->n] = (mp_s3_xml_node){name, "", parent};
    return (int)x->n++;
}

/* Skips the attributes of a start tag; stops at '>' or "/>". */
static int skip_attributes(rd *r)
{
    for (;;) {
        skip_space(r);
        if (r->pos >= r->len) return fail(r, "unterminated tag");
        char ch = r->s[r->pos];
        if (ch == '>' || ch == '/') return 0;
        while (r->pos < r->len && name_char((unsigned char)r->s[r->pos])) r->pos++;
        skip_space(r);
        if (r->pos >= r->len || r->s[r->pos] != '=') return fail(r, "bad attribute");
        r->pos++;
        skip_space(r);
        if (r->pos >= r->len || (r->s[r->pos] != '"' && r->s[r->pos] != '\''))
            return fail(r, "unquoted attribute value");
        char q = r->s[r->pos++];
        const char *end = memchr(r->s + r->pos, q, r->len - r->pos);
        if (!end) return fail(r, "unterminated attribute value");
        r->pos = (size_t)(end - r->s) + 1;
    }
}

/* Skips the prolog, comments and whitespace before/after the root. */
static int misc(rd *r, bool before_root)
{
    for (;;) {
        skip_space(r);
        if (starts(r, "<?")) {
            if (!skip_past(r, "?>")) return fail(r, "unterminated processing instruction");
        } else if (starts(r, "<!--")) {
            if (!skip_past(r, "-->")) return fail(r, "unterminated comment");
        } else if (starts(r, "<!")) {
            return fail(r, before_root ? "a DOCTYPE: this looks like an HTML page, not an S3 "
                                         "response"
                                       : "markup after the root element");
        } else {
            return 0;
        }
    }
}

static int parse(rd *r)
{
    int rc = misc(r, true);
    if (rc) return rc;
    if (r->pos >= r->len) return fail(r, "no root element (empty body)");
    if (r->s[r->pos] != '<') return fail(r, "text before the root element (not XML)");
    int stack[MP_S3_XML_MAX_DEPTH];
    int depth = 0;
    char *text = NULL; /* start of the current element's text in the arena */
    do {
        if (r->pos >= r->len) return fail(r, "unexpected end of the document");
        char ch = r->s[r->pos];
        if (ch != '<') {
            if (depth == 0) return fail(r, "text outside the root element");
            if (ch == '&') {
                if ((rc = entity(r))) return rc;
            } else {
                *r->out++ = ch;
                r->pos++;
            }
            continue;
        }
        if (starts(r, "<!--")) {
            if (!skip_past(r, "-->")) return fail(r, "unterminated comment");
            continue;
        }
        if (starts(r, "<![CDATA[")) {
            if (depth == 0) return fail(r, "CDATA outside the root element");
            r->pos += 9;
            size_t from = r->pos;
            if (!skip_past(r, "]]>")) return fail(r, "unterminated CDATA section");
            size_t n = r->pos - 3 - from;
            memcpy(r->out, r->s + from, n);
            r->out += n;
            continue;
        }
        if (starts(r, "<!") || starts(r, "<?"))
            return fail(r, "declaration or processing instruction inside the document");
        if (starts(r, "</")) {
            r->pos += 2;
            if (depth == 0) return fail(r, "end tag without a start tag");
            const char *nm = read_name(r);
            mp_s3_xml_node *nd = &r->x->nodes[stack[depth - 1]];
            if (!nm || strcmp(nm, nd->name) != 0) return fail(r, "mismatched end tag");
            r->out = (char *)nm; /* the name copy is not kept */
            skip_space(r);
            if (r->pos >= r->len || r->s[r->pos] != '>') return fail(r, "unterminated end tag");
            r->pos++;
            if (text) {
                *r->out++ = '\0';
                nd->text = text;
                text = NULL;
            }
            depth--;
            continue;
        }
        /* start tag: the text so far belonged to the parent (whitespace
         * between children); drop it */
        if (text) r->out = text;
        text = NULL;
        r->pos++;
        const char *nm = read_name(r);
        if (!nm) return fail(r, "bad element name");
        if (depth >= MP_S3_XML_MAX_DEPTH) return fail(r, "elements nested too deep");
        int idx = add_node(r, nm, depth ? stack[depth - 1] : -1);
        if (idx < 0) return idx;
        if ((rc = skip_attributes(r))) return rc;
        if (r->s[r->pos] == '/') {
            if (r->pos + 1 >= r->len || r->s[r->pos + 1] != '>') return fail(r, "bad empty tag");
            r->pos += 2;
            continue;
        }
        r->pos++; /* '>' */
        stack[depth++] = idx;
        text = r->out;
    } while (depth > 0);
    if ((rc = misc(r, false))) return rc;
    if (r->pos != r->len) return fail(r, "content after the root element");
    return 0;
}

int mp__s3_xml_parse(mp_s3_xml *x, const char *buf, size_t len, mp_error *err)
{
    memset(x, 0, sizeof *x);
    if (len > MP_S3_XML_MAX_BYTES)
        return mp__error(err, MP_EPARSE, "", "S3 response of %zu bytes is over the %u byte limit",
                         len, MP_S3_XML_MAX_BYTES);
    if (memchr(buf, '\0', len))
        return mp__error(err, MP_EPARSE, "", "S3 response contains a NUL byte (not XML)");
    x->arena = mp__xmalloc(2 * len + 2);
    rd r = {buf, len, 0, x->arena, x, 0, err};
    int rc = parse(&r);
    if (rc) mp__s3_xml_release(x);
    return rc;
}

void mp__s3_xml_release(mp_s3_xml *x)
{
    if (!x) return;
    free(x->nodes);
    free(x->arena);
    memset(x, 0, sizeof *x);
}

int mp__s3_xml_child(const mp_s3_xml *x, int parent, const char *name, int after)
{
    for (size_t i = (size_t)(after < 0 ? 0 : after + 1); i < x->n; i++)
        if (x->nodes[i].parent == parent && strcmp(x->nodes[i].name, name) == 0) return (int)i;
    return -1;
}

const char *mp__s3_xml_child_text(const mp_s3_xml *x, int parent, const char *name)
{
    int i = mp__s3_xml_child(x, parent, name, -1);
    return i < 0 ? NULL : x->nodes[i].text;
}
