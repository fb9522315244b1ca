/* The JSON subset the engine reads and writes for model metadata
 * (base/json.h): string arrays (escapes, UTF-8, bounds) and float arrays,
 * and the malformed inputs each parser must reject by name. */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "check.h"

static check_state S;

static void test_json(void)
{
    mnas_err e;
    char **v;
    int n;
    const char *ok = " [ \"cat\" , \"a\\\"b\\\\c\\/\\n\", \"\\u00e9\\u20ac\", \"\\ud83d\\ude00\", \"\xc3\xa9\", \"\" ] ";
    CHECK(&S, mnas_json_parse_string_array(ok, strlen(ok), 100, "labels", &v, &n, &e) == MNAS_OK && n == 6, "strings: %s", e.msg);
    if (n == 6) {
        CHECK(&S, strcmp(v[0], "cat") == 0 && strcmp(v[1], "a\"b\\c/\n") == 0, "escapes");
        CHECK(&S, strcmp(v[2], "\xc3\xa9\xe2\x82\xac") == 0 && strcmp(v[3], "\xf0\x9f\x98\x80") == 0, "unicode escapes");
        CHECK(&S, strcmp(v[4], "\xc3\xa9") == 0 && v[5][0] == 0, "raw utf-8, empty");
        char *w = NULL;
        CHECK(&S, mnas_json_write_string_array(v, n, &w, &e) == MNAS_OK, "write");
        if (w) {
            CHECK(&S, strcmp(w, "[\"cat\",\"a\\\"b\\\\c/\\n\",\"\xc3\xa9\xe2\x82\xac\",\"\xf0\x9f\x98\x80\",\"\xc3\xa9\",\"\"]") == 0,
                  "compact: %s", w);
            char **v2;
            int n2;
            CHECK(&S, mnas_json_parse_string_array(w, strlen(w), 100, "x", &v2, &n2, &e) == MNAS_OK && n2 == 6 &&
                      strcmp(v2[1], v[1]) == 0, "rewrite parses");
            mnas_json_free_strings(v2, n2);
            free(w);
        }
        mnas_json_free_strings(v, n);
    }
    CHECK(&S, mnas_json_parse_string_array("[]", 2, 10, "x", &v, &n, &e) == MNAS_OK && n == 0, "empty array");
    mnas_json_free_strings(v, n);
    static const char *bad[] = {"", "[", "[\"a\"", "[\"a\",]", "[,]", "[1]", "[\"a\" \"b\"]", "[\"a\"] x",
                                "[\"\\u0000\"]", "[\"\\ud800\"]", "[\"\\ude00\"]", "[\"\\x\"]", "[\"\\u12\"]",
                                "[\"a\tb\"]", "[\"\xc3\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "{}", "[\"a\\",
                                "[\"\\ud83d\\u0041\"]", "[null]"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        v = NULL;
        mnas_status st = mnas_json_parse_string_array(bad[k], strlen(bad[k]), 10, "labels", &v, &n, &e);
        CHECK(&S, st != MNAS_OK && v == NULL && strstr(e.msg, "labels"), "bad string array #%zu accepted", k);
    }
    CHECK(&S, mnas_json_parse_string_array("[\"a\",\"b\",\"c\"]", 13, 2, "x", &v, &n, &e) == MNAS_E_LIMIT, "max items");
    /* not NUL-terminated: the parser must stop at len */
    char unterminated[4] = {'[', '"', 'a', '"'};
    CHECK(&S, mnas_json_parse_string_array(unterminated, 4, 10, "x", &v, &n, &e) != MNAS_OK, "bounded by len");

    float f[4];
    const char *fs = "[0.485, 0.456 ,0.406]";
    CHECK(&S, mnas_json_parse_float_array(fs, strlen(fs), f, 4, &n, "mean", &e) == MNAS_OK && n == 3 && f[0] == 0.485f &&
              f[2] == 0.406f, "floats: %s", e.msg);
    const char *fs2 = "[-1e-3,0,2E+2,-0.5]";
    CHECK(&S, mnas_json_parse_float_array(fs2, strlen(fs2), f, 4, &n, "x", &e) == MNAS_OK && n == 4 && f[0] == -1e-3f &&
              f[2] == 200.0f, "float forms");
    static const char *badf[] = {"[1,2,3,4,5]", "[01]", "[1.]", "[.5]", "[+1]", "[1e]", "[NaN]", "[1e39]",
                                 "[\"1\"]", "[1,]", "[-]", "[1 2]", "1"};
    for (size_t k = 0; k < sizeof badf / sizeof badf[0]; k++)
        CHECK(&S, mnas_json_parse_float_array(badf[k], strlen(badf[k]), f, 4, &n, "std", &e) != MNAS_OK &&
                  strstr(e.msg, "std"), "bad float array %s accepted", badf[k]);
}

int main(void)
{
    test_json();
    return check_summary(&S, "test_json");
}
