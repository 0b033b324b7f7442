/* Language cues: PCRE2 patterns (JIT-compiled once per analyzer) for
 * urgency, threats of suspension or legal action, requests for credentials,
 * one-time codes or payment, prize lures, "click here", impersonal
 * greetings, and the SMS spam patterns (call this number, text a keyword to
 * a short code, money amounts, opt-out wording), in English, Spanish,
 * German, French and Portuguese. Cue patterns run in UTF-8 mode with Unicode
 * word boundaries and caseless matching, over text that ag_phish_text_add
 * has made valid UTF-8. Also
 * the URL, email, phone and brand patterns the other scanners use. */
#include "phish/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cue_def {
    enum ag_phish_cue cue;
    enum ag_phish_sig sig;
    const char *pattern;
};

#define EN_ES_DE_FR_PT(en, es, de, fr, pt) en "|" es "|" de "|" fr "|" pt

static const struct cue_def cues[] = {
    {CUE_URGENCY, AG_PHISH_SIG_CUE_URGENCY,
     EN_ES_DE_FR_PT(
         "\\burgent(?:ly)?\\b|\\bimmediately\\b|\\bright away\\b|\\bas soon as possible\\b|"
         "\\bwithin (?:the next )?(?:\\d+|twenty[- ]four|forty[- ]eight|24|48|72) ?(?:hours|hrs|h|days)\\b|"
         "\\bexpires? (?:today|soon|in)\\b|\\bact now\\b|\\bfinal (?:notice|reminder|warning)\\b|"
         "\\blast (?:chance|warning|reminder|attempt|notice)\\b|\\blimited time\\b|"
         "\\btime[- ]sensitive\\b|\\bdon'?t delay\\b|\\bbefore it'?s too late\\b|\\btoday only\\b|"
         "\\b(?:\\d+(?:st|nd|rd|th)|third|second|final) attempt\\b|\\baction required\\b|"
         "\\brespond (?:now|immediately|within)\\b",
         "\\burgente\\b|\\binmediatamente\\b|\\bde inmediato\\b|\\ben las pr[oó]ximas \\d+ horas|"
         "\\bdentro de \\d+ horas|[uú]ltimo aviso|[uú]ltima oportunidad|\\bcaduca\\b|\\bvence hoy\\b|"
         "\\btiempo limitado\\b",
         "\\bdringend\\b|\\bsofort\\b|\\bumgehend\\b|\\binnerhalb von \\d+ (?:stunden|tagen)|"
         "\\bletzte (?:mahnung|warnung|chance|erinnerung)\\b|\\bl(?:ä|ae)uft (?:heute )?ab\\b|"
         "\\bbegrenzte zeit\\b|\\bnur heute\\b|\\bunverz(?:ü|ue)glich",
         "\\bimm[ée]diatement\\b|\\bsans d[ée]lai\\b|\\bdans les \\d+ heures|\\bsous \\d+ ?h|"
         "\\bdernier avis\\b|derni[eè]re chance|\\btemps limit[ée]|\\bau plus vite\\b|"
         "\\bd[eè]s maintenant\\b|\\bexpire (?:aujourd|bient)",
         "\\bimediatamente\\b|nas pr[oó]ximas \\d+ horas|\\bem at[eé] \\d+ horas|"
         "[uú]ltimo aviso|[uú]ltima chance|\\bexpira(?:r|m|rão)?\\b|\\bprestes a expirar|"
         "\\btempo limitado\\b|\\bagora mesmo\\b|n[aã]o perca\\b|\\bprazo\\b")},
    {CUE_THREAT, AG_PHISH_SIG_CUE_THREAT,
     EN_ES_DE_FR_PT(
         "\\b(?:account|access|card|mailbox|membership|service|profile|wallet)s? (?:has been |have been |will be |is |was |may be |being )?"
         "(?:temporarily |permanently )?(?:suspended|locked|limited|restricted|disabled|deactivated|"
         "closed|terminated|blocked|on hold|frozen|compromised|cancell?ed)\\b|"
         "\\bsuspend(?:ed)? your\\b|\\bunusual (?:sign[- ]?in |login |account )?activity\\b|"
         "\\bunauthori[sz]ed (?:access|login|sign[- ]?in|transaction|charge|purchase)|"
         "\\bsuspicious (?:activity|login|sign[- ]?in|transaction)|\\blegal action\\b|"
         "\\bwill be (?:permanently )?(?:deleted|closed|terminated|suspended|cancell?ed|lost)\\b|"
         "\\bsecurity (?:alert|breach|warning)\\b|\\bfailure to (?:comply|verify|update|respond|confirm)|"
         "\\b(?:lose|loss of) (?:access|your (?:account|data|files|emails))\\b",
         "\\bcuenta (?:ha sido |ser[aá] |est[aá] |fue )?(?:temporalmente )?(?:suspendida|bloqueada|"
         "limitada|restringida|desactivada|cancelada|cerrada)|\\bactividad (?:inusual|sospechosa)|"
         "\\bacceso no autorizado|\\bacciones legales|\\bser[aá] (?:eliminad|suspendid|bloquead)",
         "\\bkonto (?:wurde |wird |ist )?(?:vor(?:ü|ue)bergehend )?(?:gesperrt|eingeschr(?:ä|ae)nkt|deaktiviert|"
         "geschlossen|gek(?:ü|ue)ndigt|suspendiert)|\\bungew(?:ö|oe)hnliche aktivit|\\bverd(?:ä|ae)chtige aktivit|"
         "\\bunbefugte[rn]? zugriff|\\brechtliche schritte|\\bgesperrt\\b|\\bsperrung\\b",
         "\\bcompte (?:a [ée]t[ée] |sera |est )?(?:temporairement )?(?:suspendu|bloqu[ée]|limit[ée]|"
         "restreint|d[ée]sactiv[ée]|ferm[ée]|cl[ôo]tur[ée])|\\bactivit[ée] (?:inhabituelle|suspecte)|"
         "\\bacc[eè]s non autoris[ée]|\\bpoursuites judiciaires|\\bsera supprim[ée]",
         "\\bconta (?:foi |ser[aá] |est[aá] |ficar[aá] )?(?:temporariamente )?(?:suspensa|bloqueada|"
         "limitada|restrita|desativada|cancelada|encerrada)|\\batividade (?:incomum|suspeita)|"
         "\\bacesso n[aã]o autorizado|\\b(?:a[cç][aã]o|processo|notifica[cç][aã]o|intima[cç][aã]o) judicial|"
         "\\bser[aá] (?:exclu[ií]d|cancelad|bloquead|suspens)|\\bpend[eê]ncias?\\b|"
         "\\bbloqueio\\b")},
    {CUE_CREDENTIAL, AG_PHISH_SIG_CUE_CREDENTIAL,
     EN_ES_DE_FR_PT(
         "\\b(?:verify|confirm|validate|update|secure|restore|unlock|reactivate|review) "
         "(?:your |the )?(?:account|identity|information|details|email(?: address)?|login|"
         "credentials|password|profile|mailbox|access)\\b|"
         "\\b(?:log|sign) ?in (?:to|and) (?:your account|verify|confirm|restore|update|secure|unlock)|"
         "\\bre-?activate (?:your )?account|\\benter your (?:password|credentials|login|user ?name)|"
         "\\bpassword (?:expires|expired|will expire)|\\bmailbox (?:is )?(?:full|quota|storage)",
         "\\bverifi(?:ca|car|que) (?:su|tu) (?:cuenta|identidad|informaci[oó]n|datos)|"
         "\\bconfirm(?:a|ar|e) (?:su|tu|sus|tus) (?:cuenta|identidad|informaci[oó]n|datos)|"
         "\\bactualiz(?:a|ar|e) (?:su|tu|sus|tus) (?:cuenta|informaci[oó]n|datos)|"
         "\\binici(?:a|ar|e) (?:la )?sesi[oó]n",
         "\\bbest(?:ä|ae)tigen sie ihre (?:identit|daten|konto|angaben)|\\bverifizieren sie|"
         "\\baktualisieren sie ihre (?:daten|angaben|konto|informationen)|\\bzugangsdaten\\b|"
         "\\bidentit(?:ä|ae)t (?:zu )?best(?:ä|ae)tigen|\\bdaten (?:zu )?(?:best(?:ä|ae)tigen|aktualisieren)",
         "\\bv[ée]rifie[rz]? (?:votre|vos) (?:compte|identit|informations|donn[ée]es)|"
         "\\bconfirme[rz]? (?:votre|vos) (?:compte|identit|informations|donn[ée]es)|"
         "\\bmettre [aà] jour (?:vos|votre) (?:informations|donn[ée]es|compte)|"
         "\\bconnectez[- ]vous|\\bidentifiez[- ]vous",
         "\\bverifi(?:que|car) (?:a |o )?(?:sua|seu|seus|suas) (?:conta|identidade|dados|informa|cadastro)|"
         "\\bconfirm(?:e|ar) (?:a |o )?(?:sua|seu|seus|suas) (?:conta|identidade|dados|informa|cadastro)|"
         "\\batualiz(?:e|ar|a[cç][aã]o) (?:d?[oa] |d?[oa]s )?(?:sua|seu|seus|suas)? ?(?:conta|dados|cadastro|informa)|"
         "\\brecadastr|\\bfa[cç]a (?:o )?login|\\bacesse (?:a )?sua conta|\\bvalid(?:e|ar) (?:sua|seu|seus)")},
    {CUE_OTP, AG_PHISH_SIG_CUE_OTP,
     EN_ES_DE_FR_PT(
         "\\b(?:one[- ]time|verification|security|confirmation|access|authori[sz]ation) "
         "(?:code|pin|passcode|password)\\b|\\botp\\b|"
         "\\b(?:share|send|provide|enter|reply with|give us|tell us) (?:the |your |this |that )?"
         "(?:\\d-digit )?(?:code|pin)\\b|\\bpin (?:number|code)\\b",
         "\\bc[oó]digo de (?:verificaci[oó]n|seguridad|acceso|confirmaci[oó]n)",
         "\\bbest(?:ä|ae)tigungscode|\\bsicherheitscode|\\bpush-?tan\\b|\\bsms-?tan\\b|\\btan-?(?:nummer|liste|verfahren)\\b",
         "\\bcode (?:de )?(?:v[ée]rification|s[ée]curit[ée]|confirmation|d'acc[eè]s)",
         "\\bc[oó]digo (?:de )?(?:verifica[cç][aã]o|seguran[cç]a|acesso|confirma[cç][aã]o)|"
         "\\btoken\\b")},
    {CUE_PAYMENT, AG_PHISH_SIG_CUE_PAYMENT,
     EN_ES_DE_FR_PT(
         "\\b(?:update|confirm|verify) (?:your )?(?:payment|billing|card|bank)(?: details| information| method| info)?\\b|"
         "\\bpayment (?:failed|declined|was unsuccessful|could not be processed|is overdue|pending|required)|"
         "\\b(?:card|credit card) (?:has )?(?:expired|declined|was declined)|"
         "\\boutstanding (?:balance|payment|invoice)|\\boverdue\\b|\\bpay (?:now|the fee|a fee|customs)|"
         "\\b(?:customs|shipping|delivery|redelivery|handling) (?:fee|charge)s?\\b|"
         "\\b(?:tax )?refund\\b|\\bunpaid\\b|\\bbilling (?:problem|issue|information)",
         "\\bpago (?:pendiente|rechazado|fallido)|\\bm[eé]todo de pago|\\bfactura pendiente|"
         "\\btarifa de env[ií]o|\\breembolso\\b",
         "\\bzahlung (?:fehlgeschlagen|abgelehnt|ausstehend)|\\bzahlungsinformationen|"
         "\\boffene rechnung|\\bzahlungsmethode|\\br(?:ü|ue)ckerstattung|\\bzollgeb(?:ü|ue)hr|\\bmahnung\\b",
         "\\bpaiement (?:refus[ée]|[ée]chou[ée]|en attente)|\\binformations de paiement|"
         "\\bfacture impay[ée]e|\\bfrais de (?:livraison|douane|port)|\\bremboursement\\b",
         "\\bpagamento (?:pendente|recusado|n[aã]o (?:foi )?aprovado)|\\bdados de pagamento|"
         "\\bfatura (?:em aberto|pendente|vencida)|\\bboleto\\b|\\btaxa de (?:entrega|envio|alf[aâ]ndega|importa[cç][aã]o)|"
         "\\breembolso\\b|\\bpix\\b|\\brestitui[cç][aã]o|\\bbitcoin|\\bbtc\\b|\\bcrypto ?wallet|\\bseed phrase|"
         "\\brecovery phrase|\\bcarteira\\b|\\bbilletera\\b")},
    {CUE_PRIZE, AG_PHISH_SIG_CUE_PRIZE,
     EN_ES_DE_FR_PT(
         "\\byou(?:'ve| have)? (?:been )?(?:won|selected|chosen)\\b|\\bwinner\\b|\\bcongratulations\\b|"
         "\\b(?:claim|redeem|collect) (?:your|the|now)\\b|\\bprize\\b|\\breward\\b|\\bgift ?card\\b|"
         "\\bfree (?:gift|iphone|spins|entry|trial)\\b|\\blottery\\b|\\bjackpot\\b|\\bairdrop\\b|"
         "\\bgiveaway\\b|\\bcash ?back\\b|\\bmystery box\\b",
         "\\bha(?:s)? ganado\\b|\\bganador\\b|\\bfelicidades\\b|\\bpremio\\b|\\bsorteo\\b|\\btarjeta de regalo",
         "\\bgewonnen\\b|\\bgewinner\\b|\\bgl(?:ü|ue)ckwunsch|\\bbelohnung|\\bgutschein|\\bausgew(?:ä|ae)hlt|"
         "\\bverlosung|\\bgewinnspiel",
         "\\bgagn[ée]\\b|\\bgagnant\\b|\\bf[ée]licitations\\b|\\br[ée]compense|\\bcarte cadeau|"
         "\\btirage au sort|\\bs[ée]lectionn[ée]",
         "\\bganhou\\b|\\bganhador|\\bparab[eé]ns\\b|\\bpr[eê]mio|\\brecompensa|\\bbrinde\\b|\\bsorteio|"
         "\\bresgat(?:e|ar)\\b|\\bpontos\\b|\\bselecionad")},
    {CUE_CLICK, AG_PHISH_SIG_CUE_CLICK,
     EN_ES_DE_FR_PT(
         "\\bclick (?:here|below|the (?:link|button)|on the (?:link|button)|this link)\\b|"
         "\\btap (?:here|the link|below)\\b|\\bfollow the link\\b|\\bopen the (?:link|attachment)\\b",
         "\\bhaga clic\\b|\\bhaz clic\\b|\\bpulse aqu[ií]|\\bclic aqu[ií]|\\bingrese (?:aqu[ií]|al enlace)",
         "\\bklicken sie (?:hier|auf)|\\bhier klicken|\\bfolgen sie dem link",
         "\\bcliquez (?:ici|sur)|\\bcliquer ici|\\bappuyez ici",
         "\\bclique (?:aqui|no (?:link|bot[aã]o|bot)|abaixo)|\\bacesse (?:o link|aqui|agora|j[aá])|"
         "\\btoque (?:aqui|no link)")},
    {CUE_GREETING, AG_PHISH_SIG_GENERIC_GREETING,
     EN_ES_DE_FR_PT(
         "\\bdear (?:valued )?(?:customer|client|user|member|account ?holder|sir(?:/| or )madam|"
         "beneficiary|subscriber|card ?holder|email user)\\b|\\bhello (?:customer|user|dear)\\b",
         "\\bestimad[oa] (?:cliente|usuari[oa])|\\bquerid[oa] cliente",
         "\\bsehr geehrte[r]? (?:kunde|kundin|nutzer|benutzer)|\\blieber kunde|\\bliebe kundin",
         "\\bcher client\\b|\\bch[eè]re cliente|\\bcher utilisateur|\\bcher membre",
         "\\bprezad[oa] (?:cliente|usu[aá]rio)|\\bcar[oa] cliente|\\bol[aá],? cliente")},
    {CUE_SMS_CALL, AG_PHISH_SIG_SMS_CALLBACK,
     "\\b(?:call|ring|dial|phone|contact us on|contact us at|llame al?|ll[aá]manos al?|"
     "rufen sie (?:uns )?(?:an|unter)|appelez(?: le)?|ligue (?:para|no)?) ?(?:now |us |me |free |on |at |to )*"
     "(?:on |at |to )?[+(]?0?\\d[\\d ()-]{4,}\\d"},
    {CUE_SMS_SHORTCODE, AG_PHISH_SIG_SMS_SHORTCODE,
     "\\b(?:text|txt|send|reply|sms|envie|env[ií]a|sende|envoyez)\\b[^\\n]{0,30}?\\b(?:to|2|al|para|an|au)\\s+\\d{4,6}\\b"},
    {CUE_SMS_MONEY, AG_PHISH_SIG_MONEY,
     "(?:£|\\$|€|\\br\\$|\\bgbp|\\busd|\\beur)\\s?\\d|\\b\\d+(?:[.,]\\d+)? ?(?:pounds|dollars|euros|reais|"
     "gbp|usd|eur|btc|eth|usdt|bitcoins?)\\b|\\b\\d+p(?:/| ?per\\b| ?msg| ?min)|\\b\\d+ ?(?:p|pence) per"},
    {CUE_SMS_OPTOUT, AG_PHISH_SIG_SMS_OPT_OUT,
     "\\b(?:reply|send|text|txt)\\s+stop\\b|\\bstop (?:to|2) (?:end|opt|unsub|cancel)|\\bopt[- ]?out\\b|"
     "\\bstd\\.? ?txt ?rate|\\bt ?& ?c'?s?\\b|\\b18\\+|\\bover ?18'?s?\\b|\\bunsubscribe\\b"},
};

static pcre2_code *compile(const char *pat, uint32_t flags, struct ag_err *err)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, flags, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        ag_err_set(err, AG_EINTERNAL, "regex", "", "pattern error at %zu: %s", (size_t)eo,
                   (const char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

int ag_phish_re_find(const pcre2_code *re, const char *s, size_t n, size_t start, size_t *off,
                     size_t *mlen)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md)
        return 0;
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK, md, NULL);
    if (rc > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *off = ov[0];
        *mlen = ov[1] - ov[0];
    }
    pcre2_match_data_free(md);
    return rc > 0;
}

/* Multi-word brand names as people write them; matched text is flattened
 * ("wells fargo" -> wellsfargo) and looked up among brand keys. */
static const char *const brand_phrases =
    "bank of america|wells fargo|banco do brasil|mercado ?pago|mercado ?livre|mercado ?libre|"
    "royal mail|american express|caixa econ[oô]mica|deutsche post|la poste|apple ?id|"
    "microsoft ?365|office ?365|outlook|onedrive|sharepoint|icloud|whats ?app";


/* The cue patterns are combined into one regex per model, scanned once: a
 * regex per cue, each tried at every word start, cost 1 ms per message.
 * Each pattern's top-level alternatives are grouped by their first literal
 * letter ("u(?:rgent...|...)"), so at a word start only one group is
 * tried; (*MARK:n) tells which cue matched. */

/* Split <p> at top-level '|' into <out> (pointers into a copy). */
static size_t split_top(char *p, char **out, size_t max)
{
    size_t n = 0;
    int depth = 0;
    bool cls = false;
    out[n++] = p;
    for (char *q = p; *q; q++) {
        if (*q == '\\' && q[1]) {
            q++;
            continue;
        }
        if (cls) {
            if (*q == ']')
                cls = false;
            continue;
        }
        if (*q == '[')
            cls = true;
        else if (*q == '(')
            depth++;
        else if (*q == ')')
            depth--;
        else if (*q == '|' && depth == 0 && n < max) {
            *q = '\0';
            out[n++] = q + 1;
        }
    }
    return n;
}

static int build_combined(struct ag_phish_analyzer *a, bool sms, struct ag_err *err)
{
    struct ag_buf groups[27] = {{0}};
    bool bad = false;
    for (size_t i = 0; i < AG_ARRAY_LEN(cues); i++) {
        if (cues[i].cue == CUE_SMS_MONEY || (!sms && cues[i].cue >= CUE_SMS_CALL))
            continue;
        char *copy = strdup(cues[i].pattern);
        char *alts[512];
        if (!copy) {
            bad = true;
            break;
        }
        size_t n = split_top(copy, alts, AG_ARRAY_LEN(alts));
        for (size_t k = 0; k < n; k++) {
            const char *alt = alts[k];
            if (!strncmp(alt, "\\b", 2))
                alt += 2;
            int g = 26;
            if (alt[0] >= 'a' && alt[0] <= 'z' && !strchr("?*+{", alt[1]))
                g = alt[0] - 'a';
            struct ag_buf *b = &groups[g];
            bad |= ag_buf_printf(b, "%s%s(*:%d)", b->len ? "|" : "", g < 26 ? alt + 1 : alt,
                                 (int)cues[i].cue) != 0;
        }
        free(copy);
    }
    struct ag_buf all = {0};
    bad |= ag_buf_printf(&all, "\\b(?:") != 0;
    bool first = true;
    for (int g = 0; g < 27; g++) {
        if (!groups[g].len)
            continue;
        if (g < 26)
            bad |= ag_buf_printf(&all, "%s%c(?:%s)", first ? "" : "|", 'a' + g, groups[g].data) != 0;
        else
            bad |= ag_buf_printf(&all, "%s%s", first ? "" : "|", groups[g].data) != 0;
        first = false;
        ag_buf_free(&groups[g]);
    }
    bad |= ag_buf_printf(&all, ")") != 0;
    if (bad) {
        ag_buf_free(&all);
        for (int g = 0; g < 27; g++)
            ag_buf_free(&groups[g]);
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    }
    pcre2_code *re = compile(all.data, PCRE2_UTF, err);
    ag_buf_free(&all);
    if (!re)
        return AG_EINTERNAL;
    if (sms)
        a->cue_sms = re;
    else
        a->cue_email = re;
    return 0;
}

int ag_phish_cues_init(struct ag_phish_analyzer *a, struct ag_err *err)
{
    if (build_combined(a, false, err) || build_combined(a, true, err))
        return err ? err->code : AG_EINTERNAL;
    if (!(a->cue_money = compile(cues[CUE_SMS_MONEY].pattern, PCRE2_UTF, err)))
        return AG_EINTERNAL;
    a->re_url = compile("\\b(?:(?:https?|ftp)://|www\\.)[^\\s<>\"'`{}|\\\\^\\[\\]]+", PCRE2_CASELESS,
                        err);
    a->re_email = compile("[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\\.)+[A-Za-z]{2,24}\\b", 0,
                          err);
    a->re_phone = compile("(?<![\\w.+/=-])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,5}"
                          "(?:[ .-]?\\d{2,5}){1,4}(?![\\w/=%-])",
                          0, err);
    a->re_bare = compile("(?<![\\w@./-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+"
                         "(?:com|net|org|info|biz|io|co|me|ly|uk|de|fr|es|pt|br|ru|cn|xyz|top|"
                         "click|link|online|site|shop|app|page|ws|cc|tk|ml|ga|cf|gq|pw|in|us|eu|"
                         "vip|live|support|help|icu|cyou|sbs|gd|at|to|gl|su|mx|ar|cl|it|nl|id)"
                         "(?:/[^\\s<>\"']*)?(?![\\w@-])",
                         PCRE2_CASELESS, err);
    if (!a->re_url || !a->re_email || !a->re_phone || !a->re_bare)
        return AG_EINTERNAL;
    struct ag_buf b = {0};
    ag_buf_printf(&b, "\\b(?:%s", brand_phrases);
    for (size_t i = 0; i < a->nbrands; i++) {
        const char *k = a->brands[i].key;
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->brands[j].key, k))
                dup = true;
        if (!dup && strlen(k) >= 3)
            ag_buf_printf(&b, "|%s", k);
        if (strcmp(a->brands[i].label, k) && strlen(a->brands[i].label) >= 4)
            ag_buf_printf(&b, "|%s", a->brands[i].label);
    }
    if (ag_buf_printf(&b, ")\\b")) {
        ag_buf_free(&b);
        return ag_err_set(err, AG_ENOMEM, "no_memory", "", "out of memory");
    }
    a->re_brand = compile(b.data, PCRE2_UTF, err);
    ag_buf_free(&b);
    return a->re_brand ? 0 : AG_EINTERNAL;
}

/* Lower-case ASCII and Latin-1 letters (2-byte sequences), keeping every
 * offset: the cue patterns are written in lower case and run without the
 * (much slower) caseless mode. */
char *ag_phish_lower_copy(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch |= 0x20;
        else if (ch >= 0x80 && ch <= 0x9e && i > 0 && (unsigned char)s[i - 1] == 0xc3 &&
                 ch != 0x97)
            ch += 0x20;
        d[i] = (char)ch;
    }
    d[n] = '\0';
    return d;
}

static void fire_cue(struct ag_phish_ctx *c, enum ag_phish_cue cue, const char *t, size_t off,
                     size_t m, bool sms)
{
    enum ag_phish_sig sig = AG_PHISH_NSIG;
    for (size_t i = 0; i < AG_ARRAY_LEN(cues); i++)
        if (cues[i].cue == cue)
            sig = cues[i].sig;
    if (sig == AG_PHISH_NSIG || c->fired[sig])
        return;
    char snip[96];
    size_t k = m < sizeof snip - 1 ? m : sizeof snip - 1;
    while (k < m && k && ((unsigned char)t[off + k] & 0xc0) == 0x80)
        k--;
    for (size_t j = 0; j < k; j++)
        snip[j] = (t[off + j] == '\n' || t[off + j] == '\r' || t[off + j] == '\t') ? ' '
                                                                                  : t[off + j];
    snip[k] = '\0';
    ag_phish_fire(c, sig, sms ? "sms" : "body", "\"%s\"", snip);
}

void ag_phish_cues_scan(struct ag_phish_ctx *c, bool sms)
{
    const char *t = c->text.data;
    size_t n = c->text.len;
    if (!t || !n)
        return;
    /* Cues sit near the top; long quoted threads below add only time. */
    if (n > AG_PHISH_CUE_CAP) {
        n = AG_PHISH_CUE_CAP;
        while (n && ((unsigned char)t[n] & 0xc0) == 0x80)
            n--;
    }
    char *low = ag_phish_lower_copy(t, n);
    if (!low) {
        c->oom = true;
        return;
    }
    const pcre2_code *re = sms ? c->a->cue_sms : c->a->cue_email;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md) {
        free(low);
        c->oom = true;
        return;
    }
    size_t off = 0;
    for (;;) {
        size_t mlen = 0;
        int rc = pcre2_match(re, (PCRE2_SPTR)low, n, off, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc > 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            const char *mark = (const char *)pcre2_get_mark(md);
            int cue = mark ? atoi(mark) : -1;
            off = ov[0];
            mlen = ov[1] - ov[0];
            if (cue >= 0 && cue < CUE_N)
                fire_cue(c, (enum ag_phish_cue)cue, t, off, mlen, sms);
            off += mlen ? mlen : 1;
            while (off < n && ((unsigned char)low[off] & 0xc0) == 0x80)
                off++;
        } else {
            break;
        }
    }
    pcre2_match_data_free(md);
    size_t o, m;
    if (ag_phish_re_find(c->a->cue_money, low, n, 0, &o, &m))
        fire_cue(c, CUE_SMS_MONEY, t, o, m, sms);
    static const enum ag_phish_sig kinds[] = {
        AG_PHISH_SIG_CUE_URGENCY, AG_PHISH_SIG_CUE_THREAT, AG_PHISH_SIG_CUE_CREDENTIAL,
        AG_PHISH_SIG_CUE_OTP,     AG_PHISH_SIG_CUE_PAYMENT, AG_PHISH_SIG_CUE_PRIZE,
        AG_PHISH_SIG_CUE_CLICK};
    size_t nk = 0;
    for (size_t i = 0; i < AG_ARRAY_LEN(kinds); i++)
        nk += c->fired[kinds[i]];
    if (nk >= 3)
        ag_phish_fire(c, AG_PHISH_SIG_CUE_MANY, sms ? "sms" : "body", "%zu kinds of pressure", nk);
    free(low);
}
