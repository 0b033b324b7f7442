/* Unit tests for src/identity/backup.c and token.c: backup codes (format,
 * single use, hashes only) and session tokens / API keys (format, keyed
 * hashes, comparison, parsing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "identity/backup.h"
#include "identity/keys.h"
#include "identity/token.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static uint8_t master[32];

static void backup_generate_format(void **state)
{
    uint8_t key[32];
    ag_identity_key_derive(master, AG_IDENTITY_KEY_BACKUP, key);
    char codes[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX];
    struct ag_identity_backup_code stored[AG_IDENTITY_BACKUP_COUNT];
    assert_int_equal(ag_identity_backup_generate(key, codes, stored), 0);
    for (size_t i = 0; i < AG_IDENTITY_BACKUP_COUNT; i++) {
        assert_int_equal(strlen(codes[i]), 11);
        assert_int_equal(codes[i][5], '-');
        for (size_t k = 0; k < 11; k++) {
            if (k == 5)
                continue;
            char c = codes[i][k];
            assert_true(isdigit((unsigned char)c) || isupper((unsigned char)c));
            assert_null(strchr("01IO", c)); /* nothing to confuse */
        }
        assert_int_equal(stored[i].used_ms, 0);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(codes[i], codes[j]);
            assert_memory_not_equal(stored[i].hash, stored[j].hash, 32);
        }
        /* Stored hash = keyed hash of the code; the code is not in it. */
        uint8_t h[32];
        assert_int_equal(ag_identity_backup_hash(key, codes[i], h), 0);
        assert_memory_equal(h, stored[i].hash, 32);
        assert_null(memmem(stored, sizeof stored, codes[i], 5));
    }
    /* Another key, another hash: a database copy without the key is useless. */
    uint8_t other[32], h[32];
    ag_identity_key_derive(master, AG_IDENTITY_KEY_OTP, other);
    ag_identity_backup_hash(other, codes[0], h);
    assert_memory_not_equal(h, stored[0].hash, 32);
}

static void backup_single_use(void **state)
{
    uint8_t key[32];
    ag_identity_key_derive(master, AG_IDENTITY_KEY_BACKUP, key);
    char codes[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX];
    struct ag_identity_backup_code stored[AG_IDENTITY_BACKUP_COUNT];
    assert_int_equal(ag_identity_backup_generate(key, codes, stored), 0);
    const size_t n = AG_IDENTITY_BACKUP_COUNT;
    struct ag_err err;
    size_t idx = 99;

    /* Typed loosely: lower case, no hyphen, spaces. */
    char typed[32];
    snprintf(typed, sizeof typed, " %.5s %.5s ", codes[3], codes[3] + 6);
    for (char *c = typed; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    assert_int_equal(ag_identity_backup_verify(key, typed, stored, n, &idx, &err), 0);
    assert_int_equal(idx, 3);
    assert_int_equal(ag_identity_backup_mark_used(stored, n, idx, 1700000000000LL), 0);
    assert_int_equal(ag_identity_backup_remaining(stored, n), n - 1);
    /* Second use of the same code: refused as used. */
    assert_int_equal(ag_identity_backup_verify(key, codes[3], stored, n, &idx, &err), AG_ESTATE);
    assert_string_equal(err.slug, "code_used");
    assert_int_equal(ag_identity_backup_mark_used(stored, n, 3, 1700000000001LL), AG_ESTATE);
    /* The others still work, each once. */
    for (size_t i = 0; i < n; i++) {
        if (i == 3)
            continue;
        assert_int_equal(ag_identity_backup_verify(key, codes[i], stored, n, &idx, NULL), 0);
        assert_int_equal(idx, i);
        assert_int_equal(ag_identity_backup_mark_used(stored, n, idx, 1700000000000LL + (int64_t)i),
                         0);
    }
    assert_int_equal(ag_identity_backup_remaining(stored, n), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ag_identity_backup_verify(key, codes[i], stored, n, &idx, NULL), AG_ESTATE);
    /* Wrong and malformed codes. */
    const char *bad[] = {"ABCDE-FGHJK", "", "ABCDE", "ABCDE-FGHJK-L", "ABCDE-FGHJ0", NULL};
    for (size_t i = 0; i < AG_ARRAY_LEN(bad); i++) {
        assert_int_equal(ag_identity_backup_verify(key, bad[i], stored, n, &idx, &err), AG_EAUTH);
        assert_string_equal(err.slug, "code_invalid");
    }
    assert_int_equal(ag_identity_backup_mark_used(stored, n, n, 1), AG_EINVAL);
    /* A new set replaces the old: old codes no longer match. */
    char fresh[AG_IDENTITY_BACKUP_COUNT][AG_IDENTITY_BACKUP_TEXT_MAX];
    assert_int_equal(ag_identity_backup_generate(key, fresh, stored), 0);
    assert_int_equal(ag_identity_backup_remaining(stored, n), n);
    if (strcmp(fresh[0], codes[0]) != 0)
        assert_int_equal(ag_identity_backup_verify(key, codes[0], stored, n, &idx, NULL), AG_EAUTH);
}

static void session_tokens(void **state)
{
    uint8_t key[32];
    ag_identity_key_derive(master, AG_IDENTITY_KEY_TOKEN, key);
    char t1[AG_IDENTITY_TOKEN_MAX], t2[AG_IDENTITY_TOKEN_MAX];
    assert_int_equal(ag_identity_token_new(AG_IDENTITY_SESSION_PREFIX, t1, sizeof t1, NULL), 0);
    assert_int_equal(ag_identity_token_new(AG_IDENTITY_SESSION_PREFIX, t2, sizeof t2, NULL), 0);
    assert_int_equal(strncmp(t1, "ags_", 4), 0);
    assert_int_equal(strlen(t1), 4 + 43);
    assert_int_equal(strspn(t1 + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     43);
    assert_string_not_equal(t1, t2);
    /* 32 random bytes behind the text. */
    uint8_t raw[64];
    size_t rawlen;
    assert_int_equal(sodium_base642bin(raw, sizeof raw, t1 + 4, 43, NULL, &rawlen, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    assert_int_equal(rawlen, 32);

    uint8_t h1[32], h1b[32], h2[32];
    ag_identity_token_hash(key, t1, h1);
    ag_identity_token_hash(key, t1, h1b);
    ag_identity_token_hash(key, t2, h2);
    assert_memory_equal(h1, h1b, 32); /* deterministic: the store indexes on it */
    assert_true(ag_identity_token_hash_equal(h1, h1b));
    assert_false(ag_identity_token_hash_equal(h1, h2));
    assert_int_equal(ag_identity_token_check(key, t1, h1), 0);
    assert_int_equal(ag_identity_token_check(key, t2, h1), AG_EAUTH);
    assert_int_equal(ag_identity_token_check(key, NULL, h1), AG_EAUTH);
    /* One character changed: refused. */
    t1[10] = t1[10] == 'A' ? 'B' : 'A';
    assert_int_equal(ag_identity_token_check(key, t1, h1), AG_EAUTH);
    /* The hash depends on the key. */
    uint8_t other[32], h3[32];
    ag_identity_key_derive(master, AG_IDENTITY_KEY_APIKEY, other);
    ag_identity_token_hash(other, t2, h3);
    assert_memory_not_equal(h2, h3, 32);
    /* Prefix and buffer checks. */
    struct ag_err err;
    assert_int_equal(ag_identity_token_new("Bad-Prefix", t1, sizeof t1, &err), AG_EINVAL);
    assert_int_equal(ag_identity_token_new("waytoolongprefix_x", t1, sizeof t1, &err), AG_EINVAL);
    assert_int_equal(ag_identity_token_new("ags_", t1, 20, &err), AG_ELIMIT);
    assert_int_equal(ag_identity_token_new(NULL, t1, sizeof t1, NULL), 0);
    assert_int_equal(strlen(t1), 43);
}

static void api_keys(void **state)
{
    uint8_t key[32];
    ag_identity_key_derive(master, AG_IDENTITY_KEY_APIKEY, key);
    char id[AG_IDENTITY_APIKEY_ID_MAX], k[AG_IDENTITY_APIKEY_MAX], parsed[AG_IDENTITY_APIKEY_ID_MAX];
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ag_identity_apikey_new(id, k, NULL), 0);
        assert_int_equal(strlen(id), 12);
        assert_int_equal(strncmp(k, "agk_", 4), 0);
        assert_int_equal(strncmp(k + 4, id, 12), 0);
        assert_int_equal(k[16], '_');
        assert_int_equal(strlen(k), 4 + 12 + 1 + 43);
        /* The secret may itself contain '_' and '-': parsing still finds the id. */
        assert_int_equal(ag_identity_apikey_parse(k, parsed, NULL), 0);
        assert_string_equal(parsed, id);
        uint8_t h[32];
        ag_identity_token_hash(key, k, h);
        assert_int_equal(ag_identity_token_check(key, k, h), 0);
    }
    struct ag_err err;
    char bad[AG_IDENTITY_APIKEY_MAX + 8];
    const char *bads[] = {"", "agk_", "agx_abcdefghjkmn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "agk_abcdefghjkm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "agk_abcdefghjkmI_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "agk_abcdefghjkmn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                          "agk_abcdefghjkmn-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL};
    for (size_t i = 0; i < AG_ARRAY_LEN(bads); i++) {
        assert_int_equal(ag_identity_apikey_parse(bads[i], parsed, &err), AG_EAUTH);
        assert_string_equal(err.slug, "apikey_malformed");
    }
    assert_int_equal(ag_identity_apikey_parse("agk_abcdefghjkmn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                              parsed, NULL), 0);
    snprintf(bad, sizeof bad, "%sX", k);
    assert_int_equal(ag_identity_apikey_parse(bad, parsed, &err), AG_EAUTH);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(master, sizeof master);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backup_generate_format),
        cmocka_unit_test(backup_single_use),
        cmocka_unit_test(session_tokens),
        cmocka_unit_test(api_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
