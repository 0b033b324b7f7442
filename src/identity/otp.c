/* SMS / email one-time codes: issue, verify as a state transition, and the
 * localized message texts (see otp.h). */
#include "identity/otp.h"

#include "core/util.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DOMAIN "ag-otp-v1"

static const char *const result_codes[] = {
    [AG_IDENTITY_OTP_OK] = "ok",
    [AG_IDENTITY_OTP_WRONG] = "code_invalid",
    [AG_IDENTITY_OTP_EXPIRED] = "code_expired",
    [AG_IDENTITY_OTP_EXHAUSTED] = "code_exhausted",
    [AG_IDENTITY_OTP_USED] = "code_used",
};

static const int result_errors[] = {
    [AG_IDENTITY_OTP_OK] = 0,
    [AG_IDENTITY_OTP_WRONG] = AG_EAUTH,
    [AG_IDENTITY_OTP_EXPIRED] = AG_ESTATE,
    [AG_IDENTITY_OTP_EXHAUSTED] = AG_ERATE,
    [AG_IDENTITY_OTP_USED] = AG_ESTATE,
};

static const char *const result_messages[] = {
    [AG_IDENTITY_OTP_OK] = "code accepted",
    [AG_IDENTITY_OTP_WRONG] = "wrong code",
    [AG_IDENTITY_OTP_EXPIRED] = "the code has expired; request a new one",
    [AG_IDENTITY_OTP_EXHAUSTED] = "too many wrong codes; request a new one",
    [AG_IDENTITY_OTP_USED] = "the code was already used; request a new one",
};

const char *ag_identity_otp_result_code(enum ag_identity_otp_result r)
{
    return (size_t)r < AG_ARRAY_LEN(result_codes) ? result_codes[r] : "code_invalid";
}

static void otp_hash(const uint8_t key[32], const uint8_t salt[16], const char *digits, size_t n,
                     uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, 32);
    crypto_generichash_update(&st, (const unsigned char *)DOMAIN, sizeof DOMAIN);
    crypto_generichash_update(&st, salt, 16);
    crypto_generichash_update(&st, (const unsigned char *)digits, n);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st);
}

int ag_identity_otp_issue(const uint8_t key[32], unsigned digits, int64_t ttl_ms, int64_t now_ms,
                          char code[AG_IDENTITY_OTP_TEXT_MAX], struct ag_identity_otp *out,
                          struct ag_err *err)
{
    if (digits < AG_IDENTITY_OTP_MIN_DIGITS || digits > AG_IDENTITY_OTP_MAX_DIGITS)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "digits", "digits must be 6..8");
    if (ttl_ms == 0)
        ttl_ms = AG_IDENTITY_OTP_TTL_DEFAULT_MS;
    if (ttl_ms < 0 || ttl_ms > AG_IDENTITY_OTP_TTL_MAX_MS)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "ttl", "ttl must be up to a day");
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");
    uint32_t mod = 1;
    for (unsigned i = 0; i < digits; i++)
        mod *= 10;
    uint32_t v = randombytes_uniform(mod); /* uniform over [0, 10^digits) */
    for (unsigned i = digits; i > 0; i--) {
        code[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    code[digits] = '\0';
    memset(out, 0, sizeof *out);
    randombytes_buf(out->salt, sizeof out->salt);
    otp_hash(key, out->salt, code, digits, out->hash);
    out->created_ms = now_ms;
    out->expires_ms = now_ms + ttl_ms;
    out->max_tries = AG_IDENTITY_OTP_MAX_TRIES;
    out->digits = (uint8_t)digits;
    out->version = 1;
    return 0;
}

static int finish(enum ag_identity_otp_result r, enum ag_identity_otp_result *result,
                  struct ag_err *err)
{
    *result = r;
    if (r == AG_IDENTITY_OTP_OK)
        return 0;
    return ag_err_set(err, result_errors[r], result_codes[r], "code", "%s", result_messages[r]);
}

int ag_identity_otp_verify(const uint8_t key[32], const struct ag_identity_otp *cur,
                           const char *code, int64_t now_ms, struct ag_identity_otp *next,
                           enum ag_identity_otp_result *result, struct ag_err *err)
{
    if (!key || !cur || !next || !result)
        return ag_err_set(err, AG_EINVAL, "invalid_request", "", "missing argument");
    *next = *cur;
    if (cur->used)
        return finish(AG_IDENTITY_OTP_USED, result, err);
    if (now_ms >= cur->expires_ms)
        return finish(AG_IDENTITY_OTP_EXPIRED, result, err);
    if (cur->tries >= cur->max_tries)
        return finish(AG_IDENTITY_OTP_EXHAUSTED, result, err);
    if (sodium_init() < 0)
        return ag_err_set(err, AG_EINTERNAL, "crypto_init", "", "libsodium failed to start");

    char given[AG_IDENTITY_OTP_TEXT_MAX];
    size_t n = 0;
    bool well_formed = code != NULL;
    for (const char *s = code ? code : ""; *s && well_formed; s++) {
        if (*s == ' ')
            continue;
        if (*s < '0' || *s > '9' || n >= cur->digits || n >= AG_IDENTITY_OTP_MAX_DIGITS)
            well_formed = false;
        else
            given[n++] = *s;
    }
    bool match = false;
    if (well_formed && n == cur->digits) {
        uint8_t h[32];
        otp_hash(key, cur->salt, given, n, h);
        match = sodium_memcmp(h, cur->hash, sizeof h) == 0;
        sodium_memzero(h, sizeof h);
    }
    sodium_memzero(given, sizeof given);
    next->version = cur->version + 1;
    if (match) {
        next->used = true;
        return finish(AG_IDENTITY_OTP_OK, result, err);
    }
    next->tries = cur->tries + 1; /* malformed input counts as a wrong try */
    return finish(AG_IDENTITY_OTP_WRONG, result, err);
}

/* --- messages ------------------------------------------------------------ */

/* One language: SMS text, email subject and body, with {code}, {platform}
 * and {minutes} placeholders. Each states that the platform never asks for
 * the code by phone or chat. */
static const struct {
    const char *lang, *sms, *subject, *email;
} texts[] = {
    {"en",
     "{code} is your {platform} verification code. It expires in {minutes} min. {platform} "
     "will never ask you for this code by phone or chat. Don't share it.",
     "Your {platform} verification code",
     "Your {platform} verification code is:\n\n    {code}\n\n"
     "It expires in {minutes} minutes and can be used once.\n\n"
     "{platform} will never ask you for this code by phone, chat or email. Do not share it with "
     "anyone, even someone who says they work for {platform}.\n\n"
     "If you did not request this code, someone may be trying to get into your account: do not "
     "share the code, and change your password."},
    {"es",
     "{code} es tu código de verificación de {platform}. Caduca en {minutes} min. {platform} "
     "nunca te pedirá este código por teléfono ni por chat. No lo compartas.",
     "Tu código de verificación de {platform}",
     "Tu código de verificación de {platform} es:\n\n    {code}\n\n"
     "Caduca en {minutes} minutos y solo se puede usar una vez.\n\n"
     "{platform} nunca te pedirá este código por teléfono, chat ni correo electrónico. No lo "
     "compartas con nadie, aunque diga que trabaja para {platform}.\n\n"
     "Si no has solicitado este código, es posible que alguien esté intentando acceder a tu "
     "cuenta: no compartas el código y cambia tu contraseña."},
    {"de",
     "{code} ist dein {platform}-Bestätigungscode. Gültig für {minutes} Min. {platform} fragt "
     "dich niemals telefonisch oder im Chat nach diesem Code. Gib ihn nicht weiter.",
     "Dein {platform}-Bestätigungscode",
     "Dein {platform}-Bestätigungscode lautet:\n\n    {code}\n\n"
     "Er läuft in {minutes} Minuten ab und kann nur einmal verwendet werden.\n\n"
     "{platform} fragt dich niemals telefonisch, im Chat oder per E-Mail nach diesem Code. Gib "
     "ihn an niemanden weiter, auch nicht an Personen, die behaupten, für {platform} zu "
     "arbeiten.\n\n"
     "Wenn du diesen Code nicht angefordert hast, versucht möglicherweise jemand, auf dein Konto "
     "zuzugreifen: Gib den Code nicht weiter und ändere dein Passwort."},
    {"fr",
     "{code} est votre code de vérification {platform}. Il expire dans {minutes} min. "
     "{platform} ne vous demandera jamais ce code par téléphone ou par chat. Ne le partagez pas.",
     "Votre code de vérification {platform}",
     "Votre code de vérification {platform} est :\n\n    {code}\n\n"
     "Il expire dans {minutes} minutes et ne peut être utilisé qu'une seule fois.\n\n"
     "{platform} ne vous demandera jamais ce code par téléphone, par chat ou par e-mail. Ne le "
     "communiquez à personne, même à quelqu'un qui prétend travailler pour {platform}.\n\n"
     "Si vous n'avez pas demandé ce code, quelqu'un essaie peut-être d'accéder à votre compte : "
     "ne communiquez pas le code et changez votre mot de passe."},
    {"pt",
     "{code} é o seu código de verificação {platform}. Expira em {minutes} min. {platform} "
     "nunca vai pedir este código por telefone ou chat. Não o compartilhe.",
     "Seu código de verificação {platform}",
     "O seu código de verificação {platform} é:\n\n    {code}\n\n"
     "Ele expira em {minutes} minutos e só pode ser usado uma vez.\n\n"
     "{platform} nunca vai pedir este código por telefone, chat ou e-mail. Não o compartilhe "
     "com ninguém, nem com quem diga trabalhar para {platform}.\n\n"
     "Se você não pediu este código, alguém pode estar tentando acessar a sua conta: não "
     "compartilhe o código e altere a sua senha."},
    {"it",
     "{code} è il tuo codice di verifica {platform}. Scade tra {minutes} min. {platform} non ti "
     "chiederà mai questo codice per telefono o in chat. Non condividerlo.",
     "Il tuo codice di verifica {platform}",
     "Il tuo codice di verifica {platform} è:\n\n    {code}\n\n"
     "Scade tra {minutes} minuti e può essere usato una sola volta.\n\n"
     "{platform} non ti chiederà mai questo codice per telefono, in chat o via e-mail. Non "
     "condividerlo con nessuno, nemmeno con chi dice di lavorare per {platform}.\n\n"
     "Se non hai richiesto questo codice, qualcuno potrebbe cercare di accedere al tuo account: "
     "non condividere il codice e cambia la password."},
    {"nl",
     "{code} is je verificatiecode voor {platform}. Verloopt over {minutes} min. {platform} "
     "vraagt nooit telefonisch of via chat om deze code. Deel hem met niemand.",
     "Je verificatiecode voor {platform}",
     "Je verificatiecode voor {platform} is:\n\n    {code}\n\n"
     "De code verloopt over {minutes} minuten en kan één keer worden gebruikt.\n\n"
     "{platform} vraagt nooit telefonisch, via chat of per e-mail om deze code. Deel hem met "
     "niemand, ook niet met iemand die zegt voor {platform} te werken.\n\n"
     "Heb je deze code niet aangevraagd? Dan probeert iemand misschien in je account te komen: "
     "deel de code niet en wijzig je wachtwoord."},
};

const char *const ag_identity_otp_languages[] = {"en", "es", "de", "fr", "pt", "it", "nl", NULL};

/* Expand the placeholders of <tpl> into <out>/<cap>; false if it does not fit. */
static bool expand(const char *tpl, const char *code, const char *platform, const char *minutes,
                   char *out, size_t cap)
{
    static const char *const names[] = {"{code}", "{platform}", "{minutes}"};
    const char *vals[] = {code, platform, minutes};
    size_t o = 0;
    for (const char *s = tpl; *s;) {
        const char *rep = NULL;
        size_t skip = 1;
        for (size_t i = 0; i < AG_ARRAY_LEN(names) && !rep; i++)
            if (strncmp(s, names[i], strlen(names[i])) == 0) {
                rep = vals[i];
                skip = strlen(names[i]);
            }
        size_t n = rep ? strlen(rep) : 1;
        if (o + n + 1 > cap)
            return false;
        memcpy(out + o, rep ? rep : s, n);
        o += n;
        s += skip;
    }
    out[o] = '\0';
    return true;
}

static bool text_ok(const char *s, size_t max, bool hostname)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++, n++) {
        if (*c < 0x20 || *c == 0x7f)
            return false;
        if (hostname && !((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                          (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
            return false;
    }
    return n > 0 && n <= max;
}

int ag_identity_otp_message(const char *lang, enum ag_identity_otp_channel channel,
                            const char *platform, const char *code, int64_t ttl_ms,
                            const char *domain, struct ag_identity_otp_message *out,
                            struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    if (!platform || !text_ok(platform, 64, false))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "platform",
                          "platform name must be 1..64 bytes without control characters");
    if (domain && !text_ok(domain, 64, true))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "domain", "not a host name");
    size_t clen = code ? strlen(code) : 0;
    if (clen < AG_IDENTITY_OTP_MIN_DIGITS || clen > AG_IDENTITY_OTP_MAX_DIGITS ||
        strspn(code, "0123456789") != clen)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "code", "code must be 6..8 digits");
    if (ttl_ms <= 0)
        ttl_ms = AG_IDENTITY_OTP_TTL_DEFAULT_MS;

    size_t t = 0; /* English unless the primary subtag matches */
    if (lang) {
        size_t plen = strcspn(lang, "-_");
        for (size_t i = 0; i < AG_ARRAY_LEN(texts); i++)
            if (strlen(texts[i].lang) == plen && strncasecmp(texts[i].lang, lang, plen) == 0)
                t = i;
    }
    snprintf(out->lang, sizeof out->lang, "%s", texts[t].lang);
    char minutes[24];
    snprintf(minutes, sizeof minutes, "%lld", (long long)((ttl_ms + 59999) / 60000));

    bool ok;
    if (channel == AG_IDENTITY_OTP_SMS) {
        ok = expand(texts[t].sms, code, platform, minutes, out->body, sizeof out->body);
        if (ok && domain) {
            /* WebOTP (origin-bound codes): the last line "@domain #code". */
            size_t n = strlen(out->body);
            int w = snprintf(out->body + n, sizeof out->body - n, "\n\n@%s #%s", domain, code);
            ok = w > 0 && (size_t)w < sizeof out->body - n;
        }
    } else {
        ok = expand(texts[t].subject, code, platform, minutes, out->subject, sizeof out->subject) &&
             expand(texts[t].email, code, platform, minutes, out->body, sizeof out->body);
    }
    if (!ok) {
        sodium_memzero(out, sizeof *out);
        return ag_err_set(err, AG_ELIMIT, "too_large", "platform", "message too long");
    }
    return 0;
}
