/* Password hashing (Argon2id via libsodium) and strength checks (zxcvbn-c);
 * see password.h. */
#include "identity/password.h"

#include "core/util.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <zxcvbn.h>

_Static_assert(crypto_pwhash_STRBYTES <= AG_IDENTITY_PWHASH_STR_MAX, "hash string room");

#define MEMLIMIT_CAP ((size_t)4 * 1024 * 1024 * 1024)

bool ag_identity_pwhash_params_valid(const struct ag_identity_pwhash_params *p)
{
    return p && p->opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
           p->opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
           p->memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN && p->memlimit <= MEMLIMIT_CAP &&
           p->memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

int ag_identity_password_hash(const struct ag_identity_pwhash_params *p, const char *password,
                              char out[AG_IDENTITY_PWHASH_STR_MAX], struct ag_err *err)
{
    if (!ag_identity_pwhash_params_valid(p))
        return ag_err_set(err, AG_EINVAL, "invalid_config", "", "Argon2id parameters out of range");
    if (!password)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "password", "password missing");
    size_t n = strlen(password);
    if (n > AG_IDENTITY_PASSWORD_MAX_BYTES)
        return ag_err_set(err, AG_EINVAL, "password_too_long", "password",
                          "password longer than %d bytes", AG_IDENTITY_PASSWORD_MAX_BYTES);
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");
    if (crypto_pwhash_argon2id_str(out, password, n, p->opslimit, p->memlimit) != 0)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "Argon2id could not allocate %zu bytes",
                          p->memlimit);
    return 0;
}

int ag_identity_password_verify(const char *stored, const char *password, struct ag_err *err)
{
    if (!stored || (strncmp(stored, crypto_pwhash_argon2id_STRPREFIX,
                            strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0 &&
                    strncmp(stored, crypto_pwhash_argon2i_STRPREFIX,
                            strlen(crypto_pwhash_argon2i_STRPREFIX)) != 0))
        return ag_err_set(err, AG_EINVAL, "hash_malformed", "", "not an Argon2 hash string");
    if (!password)
        return ag_err_set(err, AG_EAUTH, "password_invalid", "password", "wrong password");
    size_t n = strlen(password);
    if (n > AG_IDENTITY_PASSWORD_MAX_BYTES)
        return ag_err_set(err, AG_EAUTH, "password_invalid", "password", "wrong password");
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");
    if (crypto_pwhash_str_verify(stored, password, n) != 0) {
        /* libsodium answers -1 both for a mismatch and for a string it cannot
         * parse; tell them apart so a corrupt record is not a wrong password. */
        if (crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                           crypto_pwhash_argon2id_MEMLIMIT_MIN) < 0)
            return ag_err_set(err, AG_EINVAL, "hash_malformed", "", "not an Argon2 hash string");
        return ag_err_set(err, AG_EAUTH, "password_invalid", "password", "wrong password");
    }
    return 0;
}

int ag_identity_password_needs_rehash(const char *stored, const struct ag_identity_pwhash_params *p)
{
    if (!stored || !ag_identity_pwhash_params_valid(p))
        return AG_EINVAL;
    if (sodium_init() < 0)
        return AG_EINTERNAL;
    int rc = crypto_pwhash_str_needs_rehash(stored, p->opslimit, p->memlimit);
    if (rc < 0)
        return AG_EINVAL;
    /* An Argon2i record with the right cost still moves to Argon2id. */
    if (strncmp(stored, crypto_pwhash_argon2id_STRPREFIX,
                strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
        return 1;
    return rc ? 1 : 0;
}

int ag_identity_password_verify_upgrade(const struct ag_identity_pwhash_params *p,
                                        const char *stored, const char *password,
                                        char new_hash[AG_IDENTITY_PWHASH_STR_MAX],
                                        bool *rehashed, struct ag_err *err)
{
    *rehashed = false;
    int rc = ag_identity_password_verify(stored, password, err);
    if (rc < 0)
        return rc;
    if (ag_identity_password_needs_rehash(stored, p) == 1) {
        rc = ag_identity_password_hash(p, password, new_hash, err);
        if (rc < 0)
            return rc;
        *rehashed = true;
    }
    return 0;
}

/* --- strength ------------------------------------------------------------ */

static const char *const reason_codes[] = {
    [AG_IDENTITY_PASSWORD_OK] = "ok",
    [AG_IDENTITY_PASSWORD_TOO_SHORT] = "password_too_short",
    [AG_IDENTITY_PASSWORD_TOO_LONG] = "password_too_long",
    [AG_IDENTITY_PASSWORD_COMMON] = "password_common",
    [AG_IDENTITY_PASSWORD_PERSONAL] = "password_personal",
    [AG_IDENTITY_PASSWORD_WEAK] = "password_weak",
};

const char *ag_identity_password_reason_code(enum ag_identity_password_reason r)
{
    if ((size_t)r < AG_ARRAY_LEN(reason_codes) && reason_codes[r])
        return reason_codes[r];
    return "password_weak";
}

/* What to tell people about the kind of pattern that covers most of the
 * password; indexed by zxcvbn match type (without MULTIPLE_MATCH). */
static const struct {
    ZxcTypeMatch_t type;
    const char *warning;
} pattern_feedback[] = {
    {DICTIONARY_MATCH, "Common passwords and single words are easy to guess."},
    {DICT_LEET_MATCH, "Predictable substitutions like '@' instead of 'a' do not help much."},
    {USER_MATCH, "Avoid your name, email address or account name."},
    {USER_LEET_MATCH, "Avoid your name, email address or account name."},
    {REPEATS_MATCH, "Repeats like \"aaa\" or \"abcabc\" are easy to guess."},
    {SEQUENCE_MATCH, "Sequences like \"abc\" or \"6543\" are easy to guess."},
    {SPATIAL_MATCH, "Rows and patterns of keys on a keyboard are easy to guess."},
    {DATE_MATCH, "Dates are easy to guess."},
    {YEAR_MATCH, "Recent years are easy to guess."},
};

static size_t utf8_code_points(const char *s)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        n += (*c & 0xc0) != 0x80;
    return n;
}

static int score_of(double guesses_log10)
{
    if (guesses_log10 < 3)
        return 0;
    if (guesses_log10 < 6)
        return 1;
    if (guesses_log10 < 8)
        return 2;
    if (guesses_log10 < 10)
        return 3;
    return 4;
}

#define USER_WORDS_MAX 24
#define USER_WORD_BYTES 64

/* Lower-case the caller's words and split emails and dotted names into their
 * parts ("alice.smith@example.com" -> also "alice", "smith", "example"), as
 * zxcvbn matches user words whole. */
static size_t expand_user_words(const char *const *in, char words[][USER_WORD_BYTES],
                                const char *ptrs[])
{
    size_t n = 0;
    for (size_t i = 0; in && in[i] && n < USER_WORDS_MAX; i++) {
        char low[USER_WORD_BYTES];
        snprintf(low, sizeof low, "%s", in[i]);
        for (char *c = low; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (strlen(low) >= 3)
            snprintf(words[n++], USER_WORD_BYTES, "%s", low);
        char *save = NULL;
        for (char *tok = strtok_r(low, "@._-+ ", &save); tok && n < USER_WORDS_MAX;
             tok = strtok_r(NULL, "@._-+ ", &save))
            if (strlen(tok) >= 3)
                snprintf(words[n++], USER_WORD_BYTES, "%s", tok);
    }
    for (size_t i = 0; i < n; i++)
        ptrs[i] = words[i];
    ptrs[n] = NULL;
    return n;
}

static int refuse(struct ag_identity_password_strength *out, enum ag_identity_password_reason r,
                  struct ag_err *err)
{
    out->reason = r;
    out->code = ag_identity_password_reason_code(r);
    return ag_err_set(err, AG_EINVAL, out->code, "password", "%s",
                      out->warning[0] ? out->warning : "password refused");
}

int ag_identity_password_check(const struct ag_identity_password_policy *policy,
                               const char *password, const char *const *user_words,
                               struct ag_identity_password_strength *out, struct ag_err *err)
{
    struct ag_identity_password_strength local;
    if (!out)
        out = &local;
    memset(out, 0, sizeof *out);
    out->code = "ok";
    if (!policy || !password)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "password", "password missing");

    size_t cps = utf8_code_points(password);
    if (cps < policy->min_length) {
        snprintf(out->warning, sizeof out->warning, "Use at least %u characters.",
                 policy->min_length);
        snprintf(out->suggestion, sizeof out->suggestion,
                 "A few uncommon words together make a long password that is easy to remember.");
        return refuse(out, AG_IDENTITY_PASSWORD_TOO_SHORT, err);
    }
    if (cps > policy->max_length || strlen(password) > AG_IDENTITY_PASSWORD_MAX_BYTES) {
        snprintf(out->warning, sizeof out->warning, "Use at most %u characters.",
                 policy->max_length);
        return refuse(out, AG_IDENTITY_PASSWORD_TOO_LONG, err);
    }

    char words[USER_WORDS_MAX][USER_WORD_BYTES];
    const char *ptrs[USER_WORDS_MAX + 1];
    expand_user_words(user_words, words, ptrs);
    ZxcMatch_t *info = NULL;
    double bits = ZxcvbnMatch(password, ptrs, &info);
    out->entropy_bits = bits;
    out->guesses_log10 = bits * log10(2.0);
    out->score = score_of(out->guesses_log10);

    /* The pattern covering most characters gives the warning; a user word
     * anywhere is remembered. */
    int best_len = 0, user_len = 0;
    ZxcTypeMatch_t best = NON_MATCH;
    for (ZxcMatch_t *m = info; m; m = m->Next) {
        ZxcTypeMatch_t t = (ZxcTypeMatch_t)(m->Type & ~MULTIPLE_MATCH);
        if (t == BRUTE_MATCH || t == NON_MATCH || t == LONG_PWD_MATCH)
            continue;
        if (t == USER_MATCH || t == USER_LEET_MATCH)
            user_len += m->Length;
        if (m->Length > best_len) {
            best_len = m->Length;
            best = t;
        }
    }
    ZxcvbnFreeInfo(info);
    info = NULL;
    sodium_memzero(words, sizeof words);
    for (size_t i = 0; i < AG_ARRAY_LEN(pattern_feedback); i++)
        if (pattern_feedback[i].type == best && out->score < 3)
            snprintf(out->warning, sizeof out->warning, "%s", pattern_feedback[i].warning);
    if (out->score < 3)
        snprintf(out->suggestion, sizeof out->suggestion,
                 "Add another word or two; uncommon words are better. Capitals, symbols and "
                 "digits in predictable places do not help much.");

    if (user_len >= 3 && out->score < policy->min_score) {
        snprintf(out->warning, sizeof out->warning,
                 "Avoid your name, email address or account name.");
        return refuse(out, AG_IDENTITY_PASSWORD_PERSONAL, err);
    }
    if (out->guesses_log10 < 5) {
        if (!out->warning[0] || best == DICTIONARY_MATCH)
            snprintf(out->warning, sizeof out->warning,
                     "This is a commonly used password.");
        return refuse(out, AG_IDENTITY_PASSWORD_COMMON, err);
    }
    if (out->score < policy->min_score) {
        if (!out->warning[0])
            snprintf(out->warning, sizeof out->warning, "This password is easy to guess.");
        return refuse(out, AG_IDENTITY_PASSWORD_WEAK, err);
    }
    out->reason = AG_IDENTITY_PASSWORD_OK;
    return 0;
}
