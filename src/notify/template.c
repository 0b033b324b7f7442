/* The alert templates in six languages and their rendering (template.h).
 * To add a kind: append its id to ids[] and a {subject, line} pair to
 * every language, in the same position (the unit test renders every kind
 * in every language and fails on a missing one). To add a language: one
 * more struct lang. */
#include "notify/template.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    K_NEW_DEVICE_LOGIN,
    K_UNUSUAL_LOGIN,
    K_PASSWORD_CHANGED,
    K_EMAIL_CHANGED,
    K_PHONE_CHANGED,
    K_MFA_DISABLED,
    K_MFA_ENABLED,
    K_PAYMENT_METHOD_ADDED,
    K_PAYMENT_METHOD_REMOVED,
    K_SHIPPING_ADDRESS_ADDED,
    K_PAYOUT_ACCOUNT_CHANGED,
    K_SUBSCRIPTION_ACTIVATED,
    K_ACCOUNT_CHANGE,
    K_ACCOUNT_FROZEN,
    K_RECOVERY_REQUESTED,
    K_RECOVERY_COMPLETED,
    K_MONEY_DENIED,
    NKINDS
};

const char *const ag_notify_template_ids[] = {
    "alert.new_device_login",     "alert.unusual_login",        "alert.password_changed",
    "alert.email_changed",        "alert.phone_changed",        "alert.mfa_disabled",
    "alert.mfa_enabled",          "alert.payment_method_added", "alert.payment_method_removed",
    "alert.shipping_address_added", "alert.payout_account_changed",
    "alert.subscription_activated", "alert.account_change",     "alert.account_frozen",
    "alert.recovery_requested",   "alert.recovery_completed",   "alert.money_denied",
};
const int ag_notify_template_count = (int)AG_ARRAY_LEN(ag_notify_template_ids);
_Static_assert(AG_ARRAY_LEN(ag_notify_template_ids) == NKINDS, "one id per kind");

struct lang {
    const char *code;
    const char *hello, *when, *ip, *device, *detail;
    const char *not_me, *was_me, *held, *sms_not_me, *footer;
    const char *kinds[NKINDS][2]; /* subject, line */
};

static const struct lang langs[] = {
    {"en", "Hello,", "When", "IP address", "Device", "Details",
     "If this wasn't you, secure your account now: {link}",
     "If this was you, you can ignore this message.",
     "We have held this action for review to keep your account safe.", "Not you? {link}",
     "This is an automatic security message; we will never ask for your password or codes.",
     {
         {"New sign-in from a new device",
          "Your account was just signed in to from a device we have not seen before."},
         {"Unusual sign-in to your account",
          "We noticed a sign-in to your account that looks unusual."},
         {"Your password was changed", "The password of your account was just changed."},
         {"Your email address was changed",
          "The email address of your account was just changed."},
         {"Your phone number was changed", "The phone number of your account was just changed."},
         {"2-step verification was turned off",
          "2-step verification was just turned off or a factor was removed from your account."},
         {"2-step verification was turned on",
          "2-step verification was just turned on or a factor was added to your account."},
         {"A payment method was added", "A new payment method was just added to your account."},
         {"A payment method was removed", "A payment method was just removed from your account."},
         {"A shipping address was added",
          "A new shipping address was just added to your account."},
         {"Your payout account was changed",
          "The bank account your payouts go to was just changed."},
         {"A subscription was started", "A paid subscription was just started on your account."},
         {"Your account details were changed",
          "A security-relevant detail of your account was just changed."},
         {"Your account has been frozen",
          "To protect you, payments and changes to your sign-in details are blocked on your "
          "account for now."},
         {"Account recovery was requested",
          "Someone asked to reset the password of your account."},
         {"Your account was recovered",
          "The password of your account was just reset through account recovery."},
         {"A payment was blocked",
          "We blocked a payment or transfer from your account because it looked risky."},
     }},
    {"es", "Hola:", "Cuándo", "Dirección IP", "Dispositivo", "Detalles",
     "Si no has sido tú, protege tu cuenta ahora: {link}",
     "Si has sido tú, puedes ignorar este mensaje.",
     "Hemos retenido esta acción para revisarla y mantener tu cuenta segura.",
     "¿No has sido tú? {link}",
     "Este es un mensaje de seguridad automático; nunca te pediremos tu contraseña ni tus "
     "códigos.",
     {
         {"Nuevo inicio de sesión desde un dispositivo nuevo",
          "Se acaba de iniciar sesión en tu cuenta desde un dispositivo que no habíamos visto "
          "antes."},
         {"Inicio de sesión inusual en tu cuenta",
          "Hemos detectado un inicio de sesión en tu cuenta que parece inusual."},
         {"Se ha cambiado tu contraseña", "Se acaba de cambiar la contraseña de tu cuenta."},
         {"Se ha cambiado tu dirección de correo",
          "Se acaba de cambiar la dirección de correo electrónico de tu cuenta."},
         {"Se ha cambiado tu número de teléfono",
          "Se acaba de cambiar el número de teléfono de tu cuenta."},
         {"Se ha desactivado la verificación en dos pasos",
          "Se acaba de desactivar la verificación en dos pasos o de quitar un factor de tu "
          "cuenta."},
         {"Se ha activado la verificación en dos pasos",
          "Se acaba de activar la verificación en dos pasos o de añadir un factor a tu cuenta."},
         {"Se ha añadido un método de pago",
          "Se acaba de añadir un nuevo método de pago a tu cuenta."},
         {"Se ha eliminado un método de pago",
          "Se acaba de eliminar un método de pago de tu cuenta."},
         {"Se ha añadido una dirección de envío",
          "Se acaba de añadir una nueva dirección de envío a tu cuenta."},
         {"Se ha cambiado tu cuenta de cobro",
          "Se acaba de cambiar la cuenta bancaria a la que se envían tus pagos."},
         {"Se ha iniciado una suscripción",
          "Se acaba de iniciar una suscripción de pago en tu cuenta."},
         {"Se han cambiado datos de tu cuenta",
          "Se acaba de cambiar un dato de seguridad de tu cuenta."},
         {"Tu cuenta ha sido congelada",
          "Para protegerte, los pagos y los cambios en tus datos de acceso están bloqueados por "
          "ahora en tu cuenta."},
         {"Se ha solicitado recuperar la cuenta",
          "Alguien ha pedido restablecer la contraseña de tu cuenta."},
         {"Se ha recuperado tu cuenta",
          "La contraseña de tu cuenta se acaba de restablecer mediante la recuperación de "
          "cuenta."},
         {"Se ha bloqueado un pago",
          "Hemos bloqueado un pago o una transferencia desde tu cuenta porque parecía "
          "arriesgado."},
     }},
    {"de", "Hallo,", "Wann", "IP-Adresse", "Gerät", "Details",
     "Wenn Sie das nicht waren, sichern Sie jetzt Ihr Konto: {link}",
     "Wenn Sie das waren, können Sie diese Nachricht ignorieren.",
     "Wir haben diese Aktion zur Prüfung angehalten, um Ihr Konto zu schützen.",
     "Nicht Sie? {link}",
     "Dies ist eine automatische Sicherheitsnachricht; wir fragen Sie nie nach Ihrem Passwort "
     "oder Ihren Codes.",
     {
         {"Neue Anmeldung von einem neuen Gerät",
          "Soeben hat sich jemand von einem Gerät, das wir noch nicht kannten, bei Ihrem Konto "
          "angemeldet."},
         {"Ungewöhnliche Anmeldung bei Ihrem Konto",
          "Wir haben eine Anmeldung bei Ihrem Konto bemerkt, die ungewöhnlich aussieht."},
         {"Ihr Passwort wurde geändert", "Das Passwort Ihres Kontos wurde soeben geändert."},
         {"Ihre E-Mail-Adresse wurde geändert",
          "Die E-Mail-Adresse Ihres Kontos wurde soeben geändert."},
         {"Ihre Telefonnummer wurde geändert",
          "Die Telefonnummer Ihres Kontos wurde soeben geändert."},
         {"Die Zwei-Schritt-Verifizierung wurde ausgeschaltet",
          "Die Zwei-Schritt-Verifizierung wurde soeben ausgeschaltet oder ein Faktor wurde von "
          "Ihrem Konto entfernt."},
         {"Die Zwei-Schritt-Verifizierung wurde eingeschaltet",
          "Die Zwei-Schritt-Verifizierung wurde soeben eingeschaltet oder ein Faktor wurde Ihrem "
          "Konto hinzugefügt."},
         {"Eine Zahlungsmethode wurde hinzugefügt",
          "Ihrem Konto wurde soeben eine neue Zahlungsmethode hinzugefügt."},
         {"Eine Zahlungsmethode wurde entfernt",
          "Von Ihrem Konto wurde soeben eine Zahlungsmethode entfernt."},
         {"Eine Lieferadresse wurde hinzugefügt",
          "Ihrem Konto wurde soeben eine neue Lieferadresse hinzugefügt."},
         {"Ihr Auszahlungskonto wurde geändert",
          "Das Bankkonto, auf das Ihre Auszahlungen gehen, wurde soeben geändert."},
         {"Ein Abonnement wurde abgeschlossen",
          "Auf Ihrem Konto wurde soeben ein kostenpflichtiges Abonnement gestartet."},
         {"Ihre Kontodaten wurden geändert",
          "Eine sicherheitsrelevante Angabe Ihres Kontos wurde soeben geändert."},
         {"Ihr Konto wurde eingefroren",
          "Zu Ihrem Schutz sind Zahlungen und Änderungen Ihrer Anmeldedaten auf Ihrem Konto "
          "vorerst gesperrt."},
         {"Eine Kontowiederherstellung wurde angefordert",
          "Jemand hat angefordert, das Passwort Ihres Kontos zurückzusetzen."},
         {"Ihr Konto wurde wiederhergestellt",
          "Das Passwort Ihres Kontos wurde soeben über die Kontowiederherstellung "
          "zurückgesetzt."},
         {"Eine Zahlung wurde blockiert",
          "Wir haben eine Zahlung oder Überweisung von Ihrem Konto blockiert, weil sie riskant "
          "erschien."},
     }},
    {"fr", "Bonjour,", "Quand", "Adresse IP", "Appareil", "Détails",
     "Si ce n'était pas vous, sécurisez votre compte maintenant : {link}",
     "Si c'était vous, vous pouvez ignorer ce message.",
     "Nous avons suspendu cette action pour vérification afin de protéger votre compte.",
     "Ce n'était pas vous ? {link}",
     "Ceci est un message de sécurité automatique ; nous ne vous demanderons jamais votre mot "
     "de passe ni vos codes.",
     {
         {"Nouvelle connexion depuis un nouvel appareil",
          "Une connexion à votre compte vient d'avoir lieu depuis un appareil que nous ne "
          "connaissions pas."},
         {"Connexion inhabituelle à votre compte",
          "Nous avons remarqué une connexion à votre compte qui semble inhabituelle."},
         {"Votre mot de passe a été modifié",
          "Le mot de passe de votre compte vient d'être modifié."},
         {"Votre adresse e-mail a été modifiée",
          "L'adresse e-mail de votre compte vient d'être modifiée."},
         {"Votre numéro de téléphone a été modifié",
          "Le numéro de téléphone de votre compte vient d'être modifié."},
         {"La validation en deux étapes a été désactivée",
          "La validation en deux étapes vient d'être désactivée ou un facteur a été retiré de "
          "votre compte."},
         {"La validation en deux étapes a été activée",
          "La validation en deux étapes vient d'être activée ou un facteur a été ajouté à votre "
          "compte."},
         {"Un moyen de paiement a été ajouté",
          "Un nouveau moyen de paiement vient d'être ajouté à votre compte."},
         {"Un moyen de paiement a été supprimé",
          "Un moyen de paiement vient d'être supprimé de votre compte."},
         {"Une adresse de livraison a été ajoutée",
          "Une nouvelle adresse de livraison vient d'être ajoutée à votre compte."},
         {"Votre compte de versement a été modifié",
          "Le compte bancaire qui reçoit vos versements vient d'être modifié."},
         {"Un abonnement a été souscrit",
          "Un abonnement payant vient d'être souscrit sur votre compte."},
         {"Les informations de votre compte ont été modifiées",
          "Une information de sécurité de votre compte vient d'être modifiée."},
         {"Votre compte a été gelé",
          "Pour vous protéger, les paiements et les modifications de vos identifiants sont "
          "bloqués sur votre compte pour le moment."},
         {"Une récupération de compte a été demandée",
          "Quelqu'un a demandé à réinitialiser le mot de passe de votre compte."},
         {"Votre compte a été récupéré",
          "Le mot de passe de votre compte vient d'être réinitialisé par la récupération de "
          "compte."},
         {"Un paiement a été bloqué",
          "Nous avons bloqué un paiement ou un virement depuis votre compte car il semblait "
          "risqué."},
     }},
    {"pt", "Olá,", "Quando", "Endereço IP", "Dispositivo", "Detalhes",
     "Se não foi você, proteja sua conta agora: {link}", "Se foi você, pode ignorar esta mensagem.",
     "Retivemos esta ação para análise para manter sua conta segura.", "Não foi você? {link}",
     "Esta é uma mensagem de segurança automática; nunca pediremos sua senha ou seus códigos.",
     {
         {"Novo acesso a partir de um novo dispositivo",
          "Sua conta acabou de ser acessada a partir de um dispositivo que não conhecíamos."},
         {"Acesso incomum à sua conta", "Notamos um acesso à sua conta que parece incomum."},
         {"Sua senha foi alterada", "A senha da sua conta acabou de ser alterada."},
         {"Seu endereço de e-mail foi alterado",
          "O endereço de e-mail da sua conta acabou de ser alterado."},
         {"Seu número de telefone foi alterado",
          "O número de telefone da sua conta acabou de ser alterado."},
         {"A verificação em duas etapas foi desativada",
          "A verificação em duas etapas acabou de ser desativada ou um fator foi removido da sua "
          "conta."},
         {"A verificação em duas etapas foi ativada",
          "A verificação em duas etapas acabou de ser ativada ou um fator foi adicionado à sua "
          "conta."},
         {"Um método de pagamento foi adicionado",
          "Um novo método de pagamento acabou de ser adicionado à sua conta."},
         {"Um método de pagamento foi removido",
          "Um método de pagamento acabou de ser removido da sua conta."},
         {"Um endereço de entrega foi adicionado",
          "Um novo endereço de entrega acabou de ser adicionado à sua conta."},
         {"Sua conta de recebimento foi alterada",
          "A conta bancária que recebe seus repasses acabou de ser alterada."},
         {"Uma assinatura foi iniciada", "Uma assinatura paga acabou de ser iniciada na sua conta."},
         {"Os dados da sua conta foram alterados",
          "Um dado de segurança da sua conta acabou de ser alterado."},
         {"Sua conta foi congelada",
          "Para proteger você, pagamentos e alterações nos seus dados de acesso estão bloqueados "
          "na sua conta por enquanto."},
         {"Foi solicitada a recuperação da conta",
          "Alguém pediu para redefinir a senha da sua conta."},
         {"Sua conta foi recuperada",
          "A senha da sua conta acabou de ser redefinida pela recuperação de conta."},
         {"Um pagamento foi bloqueado",
          "Bloqueamos um pagamento ou transferência da sua conta porque parecia arriscado."},
     }},
    {"it", "Ciao,", "Quando", "Indirizzo IP", "Dispositivo", "Dettagli",
     "Se non sei stato tu, proteggi subito il tuo account: {link}",
     "Se sei stato tu, puoi ignorare questo messaggio.",
     "Abbiamo sospeso questa operazione per una verifica, per proteggere il tuo account.",
     "Non sei stato tu? {link}",
     "Questo è un messaggio di sicurezza automatico; non ti chiederemo mai la password o i "
     "codici.",
     {
         {"Nuovo accesso da un nuovo dispositivo",
          "È appena stato effettuato l'accesso al tuo account da un dispositivo che non "
          "conoscevamo."},
         {"Accesso insolito al tuo account",
          "Abbiamo notato un accesso al tuo account che sembra insolito."},
         {"La tua password è stata cambiata", "La password del tuo account è appena stata cambiata."},
         {"Il tuo indirizzo email è stato cambiato",
          "L'indirizzo email del tuo account è appena stato cambiato."},
         {"Il tuo numero di telefono è stato cambiato",
          "Il numero di telefono del tuo account è appena stato cambiato."},
         {"La verifica in due passaggi è stata disattivata",
          "La verifica in due passaggi è appena stata disattivata o un fattore è stato rimosso "
          "dal tuo account."},
         {"La verifica in due passaggi è stata attivata",
          "La verifica in due passaggi è appena stata attivata o un fattore è stato aggiunto al "
          "tuo account."},
         {"È stato aggiunto un metodo di pagamento",
          "Un nuovo metodo di pagamento è appena stato aggiunto al tuo account."},
         {"È stato rimosso un metodo di pagamento",
          "Un metodo di pagamento è appena stato rimosso dal tuo account."},
         {"È stato aggiunto un indirizzo di spedizione",
          "Un nuovo indirizzo di spedizione è appena stato aggiunto al tuo account."},
         {"Il tuo conto per i pagamenti è stato cambiato",
          "Il conto bancario su cui ricevi i pagamenti è appena stato cambiato."},
         {"È stato attivato un abbonamento",
          "Un abbonamento a pagamento è appena stato attivato sul tuo account."},
         {"I dati del tuo account sono stati cambiati",
          "Un dato di sicurezza del tuo account è appena stato cambiato."},
         {"Il tuo account è stato congelato",
          "Per proteggerti, i pagamenti e le modifiche ai dati di accesso sono per ora bloccati "
          "sul tuo account."},
         {"È stato richiesto il recupero dell'account",
          "Qualcuno ha chiesto di reimpostare la password del tuo account."},
         {"Il tuo account è stato recuperato",
          "La password del tuo account è appena stata reimpostata tramite il recupero "
          "dell'account."},
         {"È stato bloccato un pagamento",
          "Abbiamo bloccato un pagamento o un trasferimento dal tuo account perché sembrava "
          "rischioso."},
     }},
};

const char *const ag_notify_template_langs[] = {"en", "es", "de", "fr", "pt", "it"};
const int ag_notify_template_lang_count = (int)AG_ARRAY_LEN(ag_notify_template_langs);
_Static_assert(AG_ARRAY_LEN(ag_notify_template_langs) == AG_ARRAY_LEN(langs), "one per lang");

/* The "this wasn't me" pages, per language, in enum ag_notify_page_text order. */
static const struct {
    const char *code;
    const char *t[AG_NOTIFY_PAGE_NTEXTS];
} pages[] = {
    {"en",
     {"Was this not you?",
      "If you did not do what our message described, we will secure your account now: "
      "payments and changes to your sign-in details are blocked and every session is signed "
      "out until the account is reviewed.",
      "This wasn't me: secure my account", "If it was you, close this page; nothing will change.",
      "Your account is secured",
      "Thank you. Payments and changes to your sign-in details are blocked and every session "
      "was signed out. We will contact you; you can also sign in and recover your account to "
      "set a new password.",
      "This link is not valid", "This link has expired", "This link was already used",
      "Your account was already secured with this link.",
      "Sign in to your account, or use account recovery, to review recent activity and secure "
      "it."}},
    {"es",
     {"¿No has sido tú?",
      "Si no has hecho lo que describía nuestro mensaje, protegeremos tu cuenta ahora: los pagos "
      "y los cambios en tus datos de acceso quedarán bloqueados y se cerrarán todas las sesiones "
      "hasta que se revise la cuenta.",
      "No he sido yo: proteger mi cuenta",
      "Si has sido tú, cierra esta página; no cambiará nada.", "Tu cuenta está protegida",
      "Gracias. Los pagos y los cambios en tus datos de acceso están bloqueados y se han cerrado "
      "todas las sesiones. Nos pondremos en contacto contigo; también puedes iniciar sesión y "
      "recuperar tu cuenta para elegir una contraseña nueva.",
      "Este enlace no es válido", "Este enlace ha caducado", "Este enlace ya se ha usado",
      "Tu cuenta ya se protegió con este enlace.",
      "Inicia sesión en tu cuenta, o usa la recuperación de cuenta, para revisar la actividad "
      "reciente y protegerla."}},
    {"de",
     {"Waren Sie das nicht?",
      "Wenn Sie nicht getan haben, was unsere Nachricht beschreibt, sichern wir Ihr Konto jetzt: "
      "Zahlungen und Änderungen Ihrer Anmeldedaten werden gesperrt und alle Sitzungen beendet, "
      "bis das Konto geprüft ist.",
      "Das war ich nicht: Konto sichern",
      "Wenn Sie das waren, schließen Sie diese Seite; es ändert sich nichts.",
      "Ihr Konto ist gesichert",
      "Danke. Zahlungen und Änderungen Ihrer Anmeldedaten sind gesperrt und alle Sitzungen "
      "wurden beendet. Wir melden uns bei Ihnen; Sie können sich auch anmelden und Ihr Konto "
      "wiederherstellen, um ein neues Passwort festzulegen.",
      "Dieser Link ist ungültig", "Dieser Link ist abgelaufen",
      "Dieser Link wurde bereits verwendet",
      "Ihr Konto wurde mit diesem Link bereits gesichert.",
      "Melden Sie sich bei Ihrem Konto an oder nutzen Sie die Kontowiederherstellung, um die "
      "letzten Aktivitäten zu prüfen und das Konto zu sichern."}},
    {"fr",
     {"Ce n'était pas vous ?",
      "Si vous n'avez pas fait ce que décrivait notre message, nous sécurisons votre compte "
      "maintenant : les paiements et les modifications de vos identifiants sont bloqués et "
      "toutes les sessions sont fermées jusqu'à l'examen du compte.",
      "Ce n'était pas moi : sécuriser mon compte",
      "Si c'était vous, fermez cette page ; rien ne changera.", "Votre compte est sécurisé",
      "Merci. Les paiements et les modifications de vos identifiants sont bloqués et toutes les "
      "sessions ont été fermées. Nous vous contacterons ; vous pouvez aussi vous connecter et "
      "récupérer votre compte pour choisir un nouveau mot de passe.",
      "Ce lien n'est pas valide", "Ce lien a expiré", "Ce lien a déjà été utilisé",
      "Votre compte a déjà été sécurisé avec ce lien.",
      "Connectez-vous à votre compte, ou utilisez la récupération de compte, pour vérifier "
      "l'activité récente et le sécuriser."}},
    {"pt",
     {"Não foi você?",
      "Se você não fez o que nossa mensagem descreveu, vamos proteger sua conta agora: "
      "pagamentos e alterações nos seus dados de acesso ficam bloqueados e todas as sessões são "
      "encerradas até a conta ser analisada.",
      "Não fui eu: proteger minha conta", "Se foi você, feche esta página; nada vai mudar.",
      "Sua conta está protegida",
      "Obrigado. Pagamentos e alterações nos seus dados de acesso estão bloqueados e todas as "
      "sessões foram encerradas. Entraremos em contato; você também pode entrar e recuperar sua "
      "conta para definir uma nova senha.",
      "Este link não é válido", "Este link expirou", "Este link já foi usado",
      "Sua conta já foi protegida com este link.",
      "Entre na sua conta, ou use a recuperação de conta, para revisar a atividade recente e "
      "protegê-la."}},
    {"it",
     {"Non sei stato tu?",
      "Se non hai fatto quello che descriveva il nostro messaggio, proteggiamo subito il tuo "
      "account: i pagamenti e le modifiche ai dati di accesso vengono bloccati e tutte le "
      "sessioni chiuse finché l'account non sarà verificato.",
      "Non sono stato io: proteggi il mio account",
      "Se sei stato tu, chiudi questa pagina; non cambierà nulla.", "Il tuo account è protetto",
      "Grazie. I pagamenti e le modifiche ai dati di accesso sono bloccati e tutte le sessioni "
      "sono state chiuse. Ti contatteremo; puoi anche accedere e recuperare l'account per "
      "scegliere una nuova password.",
      "Questo link non è valido", "Questo link è scaduto", "Questo link è già stato usato",
      "Il tuo account è già stato protetto con questo link.",
      "Accedi al tuo account, o usa il recupero dell'account, per controllare l'attività "
      "recente e proteggerlo."}},
};
_Static_assert(AG_ARRAY_LEN(pages) == AG_ARRAY_LEN(langs), "pages in every language");

static const struct lang *lang_for(const char *locale);

const char *ag_notify_page_text(const char *locale, enum ag_notify_page_text which,
                                const char **lang)
{
    const struct lang *L = lang_for(locale);
    size_t k = (size_t)(L - langs);
    if (lang)
        *lang = pages[k].code;
    if ((unsigned)which >= AG_NOTIFY_PAGE_NTEXTS)
        return "";
    return pages[k].t[which];
}

static int kind_index(const char *id)
{
    for (int i = 0; i < NKINDS; i++)
        if (!strcmp(ag_notify_template_ids[i], id))
            return i;
    return -1;
}

bool ag_notify_template_exists(const char *template_id)
{
    return template_id && kind_index(template_id) >= 0;
}

static const struct lang *lang_for(const char *locale)
{
    char code[8] = "";
    size_t i = 0;
    for (; locale && locale[i] && i < sizeof code - 1 && isalpha((unsigned char)locale[i]); i++)
        code[i] = (char)tolower((unsigned char)locale[i]);
    code[i] = '\0';
    for (size_t k = 0; k < AG_ARRAY_LEN(langs); k++)
        if (!strcmp(langs[k].code, code))
            return &langs[k];
    return &langs[0];
}

/* A param as text: strings as is, numbers formatted, others "". */
static const char *param(const json_t *params, const char *key, char *buf, size_t len)
{
    const json_t *v = json_object_get(params, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, len, "%g", json_real_value(v));
        return buf;
    }
    return "";
}

/* Append <tpl> with each {name} replaced by params[name]. */
static int subst(struct ag_buf *b, const char *tpl, const json_t *params)
{
    int rc = 0;
    for (const char *p = tpl; *p;) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            rc |= ag_buf_append(b, p, strlen(p));
            break;
        }
        rc |= ag_buf_append(b, p, (size_t)(open - p));
        char key[64], num[32];
        size_t kl = (size_t)(close - open - 1);
        if (kl >= sizeof key) {
            rc |= ag_buf_append(b, open, (size_t)(close - open + 1));
        } else {
            memcpy(key, open + 1, kl);
            key[kl] = '\0';
            const char *v = param(params, key, num, sizeof num);
            rc |= ag_buf_append(b, v, strlen(v));
        }
        p = close + 1;
    }
    return rc;
}

static int html_escape(struct ag_buf *b, const char *s, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': rc |= ag_buf_append(b, "&amp;", 5); break;
        case '<': rc |= ag_buf_append(b, "&lt;", 4); break;
        case '>': rc |= ag_buf_append(b, "&gt;", 4); break;
        case '"': rc |= ag_buf_append(b, "&quot;", 6); break;
        case '\'': rc |= ag_buf_append(b, "&#39;", 5); break;
        default: rc |= ag_buf_append(b, &s[i], 1);
        }
    }
    return rc;
}

static int nul(struct ag_buf *b)
{
    return ag_buf_append(b, "", 1);
}

static char *take(struct ag_buf *b)
{
    char *s = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

/* The HTML part: the text's paragraphs escaped, the link as an anchor. */
static char *html_of(const char *subject, const char *text, const char *link)
{
    struct ag_buf b = {0};
    int rc = ag_buf_printf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    rc |= html_escape(&b, subject, strlen(subject));
    rc |= ag_buf_printf(&b, "</title></head>\n<body style=\"font-family: sans-serif\">\n<p>");
    size_t ll = link ? strlen(link) : 0;
    for (const char *p = text; *p;) {
        if (ll && !strncmp(p, link, ll)) {
            rc |= ag_buf_printf(&b, "<a href=\"");
            rc |= html_escape(&b, link, ll);
            rc |= ag_buf_printf(&b, "\">");
            rc |= html_escape(&b, link, ll);
            rc |= ag_buf_printf(&b, "</a>");
            p += ll;
        } else if (p[0] == '\n' && p[1] == '\n') {
            rc |= ag_buf_printf(&b, "</p>\n<p>");
            p += 2;
        } else if (p[0] == '\n') {
            rc |= ag_buf_printf(&b, "<br>\n");
            p++;
        } else {
            rc |= html_escape(&b, p, 1);
            p++;
        }
    }
    rc |= ag_buf_printf(&b, "</p>\n</body></html>\n") || nul(&b);
    if (rc) {
        ag_buf_free(&b);
        return NULL;
    }
    return take(&b);
}

static int render_literal(const char *locale, const json_t *params, struct ag_notify_rendered *out,
                          struct ag_err *err)
{
    const char *subject = json_string_value(json_object_get(params, "subject"));
    const char *text = json_string_value(json_object_get(params, "text"));
    const char *html = json_string_value(json_object_get(params, "html"));
    const char *sms = json_string_value(json_object_get(params, "sms"));
    if (!text || !*text)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "params.text",
                          "a message without a template needs params.text");
    snprintf(out->lang, sizeof out->lang, "%s", locale && *locale ? locale : "en");
    out->subject = strdup(subject ? subject : "");
    out->text = strdup(text);
    out->html = html ? strdup(html) : NULL;
    out->sms = strdup(sms ? sms : text);
    if (!out->subject || !out->text || !out->sms || (html && !out->html)) {
        ag_notify_rendered_free(out);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    return 0;
}

int ag_notify_template_render(const char *template_id, const char *locale, const json_t *params,
                              struct ag_notify_rendered *out, struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    if (!template_id || !*template_id)
        return render_literal(locale, params, out, err);
    int k = kind_index(template_id);
    if (k < 0)
        return ag_err_set(err, AG_ENOTFOUND, "unknown_template", "template_id",
                          "no template %s", template_id);
    const struct lang *L = lang_for(locale);
    snprintf(out->lang, sizeof out->lang, "%s", L->code);
    char num[32];
    const char *link = param(params, "link", num, sizeof num);
    const char *held_v = "";
    const json_t *held = json_object_get(params, "held");
    if (json_is_true(held))
        held_v = L->held;

    struct ag_buf t = {0}, s = {0};
    int rc = ag_buf_printf(&t, "%s\n\n%s\n", L->hello, L->kinds[k][1]);
    static const char *const keys[] = {"when", "ip", "device", "detail"};
    const char *labels[] = {L->when, L->ip, L->device, L->detail};
    bool any = false;
    for (size_t i = 0; i < AG_ARRAY_LEN(keys); i++) {
        const char *v = param(params, keys[i], num, sizeof num);
        if (!*v)
            continue;
        rc |= ag_buf_printf(&t, "%s%s: %s\n", any ? "" : "\n", labels[i], v);
        any = true;
    }
    if (*held_v)
        rc |= ag_buf_printf(&t, "\n%s\n", held_v);
    rc |= ag_buf_append(&t, "\n", 1);
    if (*link) {
        rc |= subst(&t, L->not_me, params);
        rc |= ag_buf_append(&t, "\n", 1);
    }
    rc |= ag_buf_printf(&t, "%s\n\n%s\n", L->was_me, L->footer) || nul(&t);

    rc |= ag_buf_printf(&s, "%s", L->kinds[k][1]);
    if (*link) {
        rc |= ag_buf_append(&s, " ", 1);
        rc |= subst(&s, L->sms_not_me, params);
    }
    rc |= nul(&s);
    out->subject = strdup(L->kinds[k][0]);
    if (rc || !out->subject) {
        ag_buf_free(&t);
        ag_buf_free(&s);
        ag_notify_rendered_free(out);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    out->text = take(&t);
    out->sms = take(&s);
    out->html = html_of(out->subject, out->text, *link ? link : NULL);
    if (!out->html) {
        ag_notify_rendered_free(out);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    return 0;
}

void ag_notify_rendered_free(struct ag_notify_rendered *r)
{
    free(r->subject);
    free(r->text);
    free(r->html);
    free(r->sms);
    r->subject = r->text = r->html = r->sms = NULL;
}
