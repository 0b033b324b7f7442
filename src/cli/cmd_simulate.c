/* `accountguard simulate`: a realistic login stream in the RBA CSV schema,
 * with two extra trailing columns, "Device ID" and "label" (legit,
 * stuffing, vpn_local, targeted).
 *
 * Users have a home country and city, a home ISP and a mobile carrier (real
 * ASNs, with addresses drawn from the networks the location database
 * assigns to them in that country, so enrichment resolves them as intended),
 * one to three devices whose browsers upgrade on a release schedule, login
 * habits (rate, hours), typos (failures then success), cleared cookies, new
 * phones, trips abroad and, for a few, a commercial VPN. Attackers:
 *  - stuffing: campaigns from hosting networks trying many accounts, a few
 *    of which reuse the password;
 *  - vpn_local: has the password, logs in through a VPN exit in the
 *    victim's country from the attacker's own device;
 *  - targeted: has the password and knows the victim's city, browser and
 *    OS: a residential address in the victim's country (often the victim's
 *    own ISP) and the victim's exact user-agent string, but not the
 *    victim's device (no device cookie).
 * Deterministic for a seed. */
#include "cli/cli.h"
#include "risk/ipintel.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- randomness (xoshiro256**) ---------------------------------------- */

struct rng {
    uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnext(struct rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

static void rseed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
}

static double runi(struct rng *r) { return (double)(rnext(r) >> 11) * 0x1.0p-53; }
static uint32_t rint_(struct rng *r, uint32_t n) { return n ? (uint32_t)(runi(r) * n) : 0; }
static bool rbern(struct rng *r, double p) { return runi(r) < p; }
static double rnorm(struct rng *r)
{
    double u = runi(r), v = runi(r);
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* --- geography and networks ------------------------------------------- */

struct country {
    const char *cc;
    double weight;
    double utc_offset; /* hours */
    const char *cities[3];
    uint32_t res[3];    /* residential ISPs */
    uint32_t mobile[2]; /* mobile carriers */
};

static const struct country countries[] = {
    {"US", 25, -6, {"Chicago", "Dallas", "Denver"}, {7922, 20115, 7018}, {21928, 6167}},
    {"DE", 12, 1, {"Berlin", "Hamburg", "Munich"}, {3320, 8881, 0}, {3209, 6805}},
    {"GB", 12, 0, {"London", "Manchester", "Leeds"}, {2856, 5089, 5607}, {12576, 25135}},
    {"IN", 10, 5.5, {"Mumbai", "Delhi", "Bengaluru"}, {24560, 9829, 0}, {55836, 24560}},
    {"FR", 8, 1, {"Paris", "Lyon", "Toulouse"}, {12322, 3215, 0}, {5410, 15557}},
    {"BR", 8, -3, {"Sao Paulo", "Rio de Janeiro", "Curitiba"}, {28573, 18881, 0}, {26599, 0}},
    {"PL", 7, 1, {"Warsaw", "Krakow", "Gdansk"}, {5617, 12741, 0}, {5617, 0}},
    {"NO", 6, 1, {"Oslo", "Bergen", "Trondheim"}, {29695, 2119, 0}, {41164, 2119}},
    {"SE", 6, 1, {"Stockholm", "Gothenburg", "Malmo"}, {3301, 8473, 0}, {1257, 44034}},
    {"NL", 6, 1, {"Amsterdam", "Rotterdam", "Utrecht"}, {1136, 33915, 0}, {33915, 0}},
};
#define NCOUNTRIES (int)(sizeof countries / sizeof countries[0])

static const uint32_t hosting[] = {16509, 14061, 16276, 24940, 63949, 20473, 9009, 60068};
#define NHOSTING (int)(sizeof hosting / sizeof hosting[0])

struct net {
    uint8_t addr[16];
    uint8_t prefix;
    bool v6;
};

/* Networks of one ASN in one country. */
struct pool {
    uint32_t asn;
    char cc[3];
    struct net *v4, *v6;
    int n4, n6, c4, c6;
};

struct netdb {
    struct pool *p;
    int n, cap;
};

static struct pool *pool_get(struct netdb *db, uint32_t asn, const char *cc, bool create)
{
    for (int i = 0; i < db->n; i++)
        if (db->p[i].asn == asn && !strcmp(db->p[i].cc, cc))
            return &db->p[i];
    if (!create)
        return NULL;
    if (db->n == db->cap) {
        db->cap = db->cap ? db->cap * 2 : 64;
        db->p = realloc(db->p, (size_t)db->cap * sizeof *db->p);
        if (!db->p)
            abort();
    }
    struct pool *p = &db->p[db->n++];
    memset(p, 0, sizeof *p);
    p->asn = asn;
    memcpy(p->cc, cc, 2);
    return p;
}

struct collect {
    struct netdb *db;
    struct rng *r;
};

static int collect_net(void *arg, const char *cidr, const char *cc, uint32_t asn, uint32_t flags)
{
    struct collect *c = arg;
    if (!cc[0] || flags)
        return 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", cidr);
    char *slash = strchr(buf, '/');
    if (!slash)
        return 0;
    *slash = 0;
    struct net n = {.prefix = (uint8_t)atoi(slash + 1)};
    if (inet_pton(AF_INET, buf, n.addr) == 1) {
        if (n.prefix < 8 || n.prefix > 24)
            return 0;
    } else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
        n.v6 = true;
        if (n.prefix < 19 || n.prefix > 48)
            return 0;
    } else {
        return 0;
    }
    struct pool *p = pool_get(c->db, asn, cc, true);
    /* reservoir of at most 256 networks per family */
    struct net **arr = n.v6 ? &p->v6 : &p->v4;
    int *len = n.v6 ? &p->n6 : &p->n4, *seen = n.v6 ? &p->c6 : &p->c4;
    if (!*arr && !(*arr = calloc(256, sizeof **arr)))
        abort();
    (*seen)++;
    if (*len < 256)
        (*arr)[(*len)++] = n;
    else if (rint_(c->r, (uint32_t)*seen) < 256)
        (*arr)[rint_(c->r, 256)] = n;
    return 0;
}

/* A random address inside a random network of <p> (v6 if asked and any). */
static void pool_addr(const struct pool *p, struct rng *r, bool want_v6, char *out, size_t cap)
{
    bool v6 = want_v6 && p->n6 > 0;
    if (!v6 && !p->n4)
        v6 = p->n6 > 0;
    const struct net *n = v6 ? &p->v6[rint_(r, (uint32_t)p->n6)] : &p->v4[rint_(r, (uint32_t)p->n4)];
    uint8_t a[16];
    memcpy(a, n->addr, 16);
    if (!v6) {
        uint32_t base = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
        uint32_t size = 1u << (32 - n->prefix);
        uint32_t off = 1 + rint_(r, size - 2);
        uint32_t v = base + off;
        snprintf(out, cap, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
    } else {
        for (int i = n->prefix / 8 + 1; i < 16; i++)
            a[i] = (uint8_t)rnext(r);
        if (n->prefix % 8)
            a[n->prefix / 8] |= (uint8_t)(rnext(r) & ((1u << (8 - n->prefix % 8)) - 1));
        inet_ntop(AF_INET6, a, out, (socklen_t)cap);
    }
}

/* --- clients ---------------------------------------------------------- */

enum tmpl { T_WIN_CHROME, T_WIN_EDGE, T_WIN_FIREFOX, T_MAC_SAFARI, T_MAC_CHROME, T_LINUX_FIREFOX,
            T_IPHONE, T_ANDROID, T_IPAD, T_ANDROID_TAB, NTMPL };

static const char *const android_models[] = {"SM-S911B", "Pixel 7", "M2101K6G", "SM-A536B",
                                             "moto g(30)", "CPH2211"};

struct device {
    enum tmpl t;
    int lag;        /* days behind the release schedule */
    int android;    /* Android version */
    int model;
    uint64_t id;    /* device cookie; 0: none yet */
};

/* Browser major versions on <day>: a release every four weeks. */
static int chrome_v(int day) { return 112 + day / 28; }
static int firefox_v(int day) { return 112 + day / 28; }
static int safari_v(int day) { return 16 + day / 180; }
static int safari_minor(int day) { return (day / 45) % 6; }

struct client {
    char ua[320];
    char browser[48];
    char os[40];
    const char *devtype;
};

static void client_at(const struct device *d, int day, struct client *c)
{
    int dd = day - d->lag < 0 ? 0 : day - d->lag;
    int cv = chrome_v(dd), fv = firefox_v(dd), sv = safari_v(dd), sm = safari_minor(dd);
    const char *model = android_models[d->model % 6];
    c->devtype = "desktop";
    switch (d->t) {
    case T_WIN_CHROME:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", cv);
        snprintf(c->browser, sizeof c->browser, "Chrome %d.0.0", cv);
        snprintf(c->os, sizeof c->os, "Windows 10");
        break;
    case T_WIN_EDGE:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.1901.%d", cv, cv, 100 + dd % 50);
        snprintf(c->browser, sizeof c->browser, "Edge %d.0.1901", cv);
        snprintf(c->os, sizeof c->os, "Windows 10");
        break;
    case T_WIN_FIREFOX:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/%d.0", fv);
        snprintf(c->browser, sizeof c->browser, "Firefox %d.0", fv);
        snprintf(c->os, sizeof c->os, "Windows 10");
        break;
    case T_MAC_SAFARI:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Safari/605.1.15", sv, sm);
        snprintf(c->browser, sizeof c->browser, "Safari %d.%d", sv, sm);
        snprintf(c->os, sizeof c->os, "Mac OS X 10.15.7");
        break;
    case T_MAC_CHROME:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", cv);
        snprintf(c->browser, sizeof c->browser, "Chrome %d.0.0", cv);
        snprintf(c->os, sizeof c->os, "Mac OS X 10.15.7");
        break;
    case T_LINUX_FIREFOX:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/%d.0", fv);
        snprintf(c->browser, sizeof c->browser, "Firefox %d.0", fv);
        snprintf(c->os, sizeof c->os, "Ubuntu");
        break;
    case T_IPHONE:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", sv, sm, sv, sm);
        snprintf(c->browser, sizeof c->browser, "Mobile Safari %d.%d", sv, sm);
        snprintf(c->os, sizeof c->os, "iOS %d.%d", sv, sm);
        c->devtype = "mobile";
        break;
    case T_ANDROID:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Mobile Safari/537.36", d->android, model, cv);
        snprintf(c->browser, sizeof c->browser, "Chrome Mobile %d.0.0", cv);
        snprintf(c->os, sizeof c->os, "Android %d", d->android);
        c->devtype = "mobile";
        break;
    case T_IPAD:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (iPad; CPU OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", sv, sm, sv, sm);
        snprintf(c->browser, sizeof c->browser, "Mobile Safari %d.%d", sv, sm);
        snprintf(c->os, sizeof c->os, "iOS %d.%d", sv, sm);
        c->devtype = "tablet";
        break;
    case T_ANDROID_TAB:
        snprintf(c->ua, sizeof c->ua, "Mozilla/5.0 (Linux; Android %d; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", d->android, cv);
        snprintf(c->browser, sizeof c->browser, "Chrome %d.0.0", cv);
        snprintf(c->os, sizeof c->os, "Android %d", d->android);
        c->devtype = "tablet";
        break;
    default:
        break;
    }
}

static bool is_phone(enum tmpl t) { return t == T_IPHONE || t == T_ANDROID; }

static enum tmpl pick_desktop(struct rng *r)
{
    static const enum tmpl t[] = {T_WIN_CHROME, T_WIN_CHROME, T_WIN_CHROME, T_WIN_EDGE,
                                  T_WIN_FIREFOX, T_MAC_SAFARI, T_MAC_CHROME, T_LINUX_FIREFOX};
    return t[rint_(r, 8)];
}

static void device_new(struct device *d, enum tmpl t, struct rng *r)
{
    d->t = t;
    d->lag = (int)rint_(r, 12);
    d->android = 11 + (int)rint_(r, 4);
    d->model = (int)rint_(r, 6);
    d->id = rnext(r) | 1;
}

/* --- users ------------------------------------------------------------- */

struct user {
    int country, city;
    uint32_t home_asn, mobile_asn, work_asn;
    char home_ip[46], work_ip[46];
    bool home_v6;
    struct device dev[3];
    int ndev;
    double rate;      /* logins per day */
    double peak;      /* preferred local hour */
    bool vpn_user;
    int trip_start, trip_len, trip_country;
    bool reuses_password; /* falls to credential stuffing */
};

/* --- rows -------------------------------------------------------------- */

enum label { L_LEGIT, L_STUFFING, L_VPN, L_TARGETED };
static const char *const label_names[] = {"legit", "stuffing", "vpn_local", "targeted"};

struct row {
    int64_t t;
    uint32_t user; /* UINT32_MAX: a made-up account (stuffing) */
    uint32_t fake_id;
    uint8_t label;
    bool ok;
    const char *city;
    char ip[46];
    char ua[320];
    char browser[48];
    char os[40];
    const char *devtype;
    uint64_t devid;
    int rtt;
};

struct rows {
    struct row *v;
    size_t n, cap;
};

static struct row *row_add(struct rows *rs)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 4096;
        rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
        if (!rs->v) {
            fprintf(stderr, "accountguard simulate: out of memory\n");
            exit(1);
        }
    }
    struct row *r = &rs->v[rs->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

struct sim {
    struct rng r;
    struct netdb db;
    struct ag_ipintel *ip;
    struct user *users;
    uint32_t nusers;
    int days;
    int64_t t0;
    struct rows *day_rows; /* per day */
    char mobile_pool[NCOUNTRIES][2][64][46];
};

static const struct pool *pool_for(struct sim *s, uint32_t asn, const char *cc)
{
    const struct pool *p = pool_get(&s->db, asn, cc, false);
    return p && (p->n4 || p->n6) ? p : NULL;
}

/* A hosting pool, preferably in country <cc> (NULL: any). */
static const struct pool *hosting_pool(struct sim *s, const char *cc)
{
    const struct pool *cand[64];
    int n = 0;
    for (int i = 0; i < s->db.n && n < 64; i++) {
        const struct pool *p = &s->db.p[i];
        bool host = false;
        for (int h = 0; h < NHOSTING; h++)
            host |= p->asn == hosting[h];
        if (host && p->n4 && (!cc || !strcmp(p->cc, cc)))
            cand[n++] = p;
    }
    if (!n)
        return cc ? hosting_pool(s, NULL) : NULL;
    return cand[rint_(&s->r, (uint32_t)n)];
}

static void row_fill(struct row *w, const struct client *c, uint64_t devid)
{
    snprintf(w->ua, sizeof w->ua, "%s", c->ua);
    snprintf(w->browser, sizeof w->browser, "%s", c->browser);
    snprintf(w->os, sizeof w->os, "%s", c->os);
    w->devtype = c->devtype;
    w->devid = devid;
}

static struct rows *rows_of(struct sim *s, int64_t t)
{
    int64_t d = (t - s->t0) / 86400000;
    if (d < 0)
        d = 0;
    if (d >= s->days)
        d = s->days - 1;
    return &s->day_rows[d];
}

/* One legitimate login (with typos) of user <u> at <t>. */
static void legit_login(struct sim *s, uint32_t ui, int day, int64_t t)
{
    struct rng *r = &s->r;
    struct user *u = &s->users[ui];
    const struct country *home = &countries[u->country];
    bool abroad = u->trip_len && day >= u->trip_start && day < u->trip_start + u->trip_len;
    int di = (int)rint_(r, (uint32_t)u->ndev);
    struct device *d = &u->dev[di];
    /* a weekday at work: the work laptop, when there is one */
    bool weekday = ((day + 3) % 7) < 5;
    char ip[46];
    const char *city = home->cities[u->city];
    if (abroad) {
        const struct country *dest = &countries[u->trip_country];
        for (int i = 0; i < u->ndev; i++)
            if (is_phone(u->dev[i].t))
                d = &u->dev[i];
        city = dest->cities[0];
        if (rbern(r, 0.6) && dest->mobile[0]) {
            const struct pool *p = pool_for(s, dest->mobile[rint_(r, dest->mobile[1] ? 2 : 1)], dest->cc);
            if (!p)
                p = pool_for(s, dest->res[0], dest->cc);
            pool_addr(p, r, false, ip, sizeof ip);
        } else {
            const struct pool *p = pool_for(s, dest->res[0], dest->cc);
            pool_addr(p, r, false, ip, sizeof ip);
        }
    } else if (is_phone(d->t) && rbern(r, 0.55)) {
        int ci = u->country, k = home->mobile[1] && u->mobile_asn == home->mobile[1] ? 1 : 0;
        snprintf(ip, sizeof ip, "%s", s->mobile_pool[ci][k][rint_(r, 64)]);
    } else if (u->work_asn && weekday && !is_phone(d->t) && rbern(r, 0.5)) {
        snprintf(ip, sizeof ip, "%s", u->work_ip);
    } else if (u->vpn_user && !is_phone(d->t) && rbern(r, 0.3)) {
        const struct pool *p = hosting_pool(s, rbern(r, 0.5) ? home->cc : NULL);
        pool_addr(p, r, false, ip, sizeof ip);
    } else {
        snprintf(ip, sizeof ip, "%s", u->home_ip);
    }
    /* cleared cookies / private window: a new device id */
    if (rbern(r, 0.02))
        d->id = rnext(r) | 1;
    struct client c;
    client_at(d, day, &c);
    int nfail = rbern(r, 0.06) ? (rbern(r, 0.2) ? 2 : 1) : 0;
    for (int i = 0; i <= nfail; i++) {
        int64_t tt = t - (int64_t)(nfail - i) * (5000 + rint_(r, 20000));
        int64_t day0 = s->t0 + (int64_t)day * 86400000;
        if (tt < day0) /* that day is written already */
            tt = day0 + i;
        struct row *w = row_add(rows_of(s, tt));
        w->t = tt;
        w->user = ui;
        w->label = L_LEGIT;
        w->ok = i == nfail;
        w->city = city;
        snprintf(w->ip, sizeof w->ip, "%s", ip);
        row_fill(w, &c, d->id);
        w->rtt = 20 + (int)rint_(r, 200);
    }
}

static void plan_stuffing(struct sim *s, int64_t start)
{
    struct rng *r = &s->r;
    int nips = 5 + (int)rint_(r, 26);
    char (*ips)[46] = calloc((size_t)nips, 46);
    if (!ips)
        abort();
    for (int i = 0; i < nips; i++)
        pool_addr(hosting_pool(s, NULL), r, false, ips[i], sizeof ips[i]);
    static const struct device bot = {T_WIN_CHROME, 40, 0, 0, 0};
    struct client c;
    client_at(&bot, (int)rint_(r, 60), &c); /* an outdated Chrome */
    uint32_t tries = s->nusers / 4 + 50;
    int64_t dur = 3600000 + (int64_t)rint_(r, 7200000);
    for (uint32_t k = 0; k < tries; k++) {
        int64_t t = start + (int64_t)((double)dur * k / tries) + rint_(r, 2000);
        struct row *w = row_add(rows_of(s, t));
        w->t = t;
        w->label = L_STUFFING;
        if (rbern(r, 0.8)) {
            w->user = rint_(r, s->nusers);
            w->ok = s->users[w->user].reuses_password;
        } else {
            w->user = UINT32_MAX;
            w->fake_id = (uint32_t)rnext(r);
        }
        w->city = "";
        snprintf(w->ip, sizeof w->ip, "%s", ips[k % (uint32_t)nips]);
        row_fill(w, &c, rbern(r, 0.5) ? (rnext(r) | 1) : 0);
        w->rtt = 5 + (int)rint_(r, 40);
    }
    free(ips);
}

static void plan_takeover(struct sim *s, uint32_t victim, enum label kind, int64_t t)
{
    struct rng *r = &s->r;
    struct user *u = &s->users[victim];
    const struct country *home = &countries[u->country];
    int day = (int)((t - s->t0) / 86400000);
    struct device own;
    struct client c;
    char ip[46];
    if (kind == L_VPN) {
        device_new(&own, rbern(r, 0.7) ? pick_desktop(r) : (rbern(r, 0.5) ? T_IPHONE : T_ANDROID), r);
        client_at(&own, day, &c);
        pool_addr(hosting_pool(s, home->cc), r, false, ip, sizeof ip);
    } else {
        /* the victim's own browser and OS, down to the UA string */
        int di = 0;
        for (int i = 0; i < u->ndev; i++)
            if (!is_phone(u->dev[i].t))
                di = i;
        own = u->dev[di];
        client_at(&own, day, &c);
        own.id = rnext(r) | 1; /* but not the victim's device cookie */
        uint32_t asn = rbern(r, 0.5) ? u->home_asn : home->res[rint_(r, home->res[2] ? 3 : 2)];
        const struct pool *p = pool_for(s, asn, home->cc);
        if (!p)
            p = pool_for(s, u->home_asn, home->cc);
        pool_addr(p, r, false, ip, sizeof ip);
    }
    int logins = 1 + (int)rint_(r, 2);
    for (int k = 0; k < logins; k++) {
        int64_t tk = t + (int64_t)k * (3600000 + rint_(r, 20 * 3600000));
        int nfail = kind == L_VPN && k == 0 && rbern(r, 0.3) ? 1 : 0;
        for (int i = 0; i <= nfail; i++) {
            int64_t tt = tk - (int64_t)(nfail - i) * 15000;
            struct row *w = row_add(rows_of(s, tt));
            w->t = tt;
            w->user = victim;
            w->label = (uint8_t)kind;
            w->ok = i == nfail;
            w->city = home->cities[u->city];
            snprintf(w->ip, sizeof w->ip, "%s", ip);
            row_fill(w, &c, own.id);
            w->rtt = 20 + (int)rint_(r, 200);
        }
    }
}

static void user_new(struct sim *s, uint32_t i)
{
    struct rng *r = &s->r;
    struct user *u = &s->users[i];
    memset(u, 0, sizeof *u);
    double tw = 0, x;
    for (int c = 0; c < NCOUNTRIES; c++)
        tw += countries[c].weight;
    x = runi(r) * tw;
    for (u->country = 0; u->country < NCOUNTRIES - 1 && x >= countries[u->country].weight;
         u->country++)
        x -= countries[u->country].weight;
    const struct country *c = &countries[u->country];
    u->city = (int)rint_(r, 3);
    int nres = c->res[2] ? 3 : c->res[1] ? 2 : 1;
    u->home_asn = c->res[rint_(r, (uint32_t)nres)];
    if (!pool_for(s, u->home_asn, c->cc))
        u->home_asn = c->res[0];
    u->mobile_asn = c->mobile[c->mobile[1] ? rint_(r, 2) : 0];
    u->home_v6 = rbern(r, 0.2);
    pool_addr(pool_for(s, u->home_asn, c->cc), r, u->home_v6, u->home_ip, sizeof u->home_ip);
    if (rbern(r, 0.3)) {
        u->work_asn = c->res[rint_(r, (uint32_t)nres)];
        if (!pool_for(s, u->work_asn, c->cc))
            u->work_asn = u->home_asn;
        pool_addr(pool_for(s, u->work_asn, c->cc), r, false, u->work_ip, sizeof u->work_ip);
    }
    u->ndev = 0;
    device_new(&u->dev[u->ndev++], rbern(r, 0.55) ? T_ANDROID : T_IPHONE, r);
    if (rbern(r, 0.8))
        device_new(&u->dev[u->ndev++], pick_desktop(r), r);
    if (rbern(r, 0.2))
        device_new(&u->dev[u->ndev++], rbern(r, 0.6) ? T_IPAD : T_ANDROID_TAB, r);
    u->rate = exp(-0.3 + 0.8 * rnorm(r));
    if (u->rate < 0.1)
        u->rate = 0.1;
    if (u->rate > 6)
        u->rate = 6;
    u->peak = 8 + runi(r) * 14;
    u->vpn_user = rbern(r, 0.04);
    if (rbern(r, 0.08)) {
        u->trip_start = 3 + (int)rint_(r, (uint32_t)(s->days > 6 ? s->days - 3 : 3));
        u->trip_len = 3 + (int)rint_(r, 8);
        do
            u->trip_country = (int)rint_(r, NCOUNTRIES);
        while (u->trip_country == u->country);
    }
    u->reuses_password = rbern(r, 0.03);
}

static void fake_user_id(uint32_t v, char *out, size_t cap) { snprintf(out, cap, "x%08x", v); }

int ag_cmd_simulate(int argc, char **argv)
{
    long users = 2000, days = 30;
    unsigned long long seed = 1;
    const char *out_path = "-", *ipdb = "/var/lib/location/database.db";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("accountguard simulate: write a labelled login stream (RBA CSV schema)\n\n"
                   "Usage:\n  accountguard simulate [--users N] [--days D] [--seed S] "
                   "[--out FILE] [--ipdb_file PATH]\n");
            return 0;
        }
        if (!v) {
            fprintf(stderr, "accountguard simulate: %s needs a value\n", a);
            return 2;
        }
        char *end = NULL;
        if (!strcmp(a, "--users"))
            users = strtol(v, &end, 10);
        else if (!strcmp(a, "--days"))
            days = strtol(v, &end, 10);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, &end, 10);
        else if (!strcmp(a, "--out"))
            out_path = v;
        else if (!strcmp(a, "--ipdb_file") || !strcmp(a, "--ipdb-file"))
            ipdb = v;
        else {
            fprintf(stderr, "accountguard simulate: unknown option %s\n", a);
            return 2;
        }
        if (end && *end) {
            fprintf(stderr, "accountguard simulate: %s: not a number: %s\n", a, v);
            return 2;
        }
        i++;
    }
    if (users < 10 || users > 10000000 || days < 2 || days > 3650) {
        fprintf(stderr, "accountguard simulate: --users must be 10..10000000, --days 2..3650\n");
        return 2;
    }
    struct sim s;
    memset(&s, 0, sizeof s);
    rseed(&s.r, seed);
    struct ag_err err;
    if (ag_ipintel_open(ipdb, 0, &s.ip, &err)) {
        fprintf(stderr, "accountguard simulate: %s\n", err.msg);
        return 1;
    }
    ag_ipintel_index_start(s.ip); /* for the per-row lookups, built meanwhile */
    /* networks of every ASN we use, from the location database */
    uint32_t asns[64];
    size_t na = 0;
    for (int c = 0; c < NCOUNTRIES; c++) {
        for (int k = 0; k < 3; k++)
            if (countries[c].res[k])
                asns[na++] = countries[c].res[k];
        for (int k = 0; k < 2; k++)
            if (countries[c].mobile[k])
                asns[na++] = countries[c].mobile[k];
    }
    for (int h = 0; h < NHOSTING; h++)
        asns[na++] = hosting[h];
    struct collect col = {&s.db, &s.r};
    ag_ipintel_each_network(s.ip, asns, na, collect_net, &col);
    for (int c = 0; c < NCOUNTRIES; c++) {
        for (int k = 0; k < 3; k++) {
            if (countries[c].res[k] && !pool_for(&s, countries[c].res[k], countries[c].cc) && !k) {
                fprintf(stderr, "accountguard simulate: the location database has no network "
                                "of AS%u in %s\n", countries[c].res[k], countries[c].cc);
                ag_ipintel_close(s.ip);
                return 1;
            }
        }
        for (int k = 0; k < 2; k++) {
            uint32_t m = countries[c].mobile[k] ? countries[c].mobile[k] : countries[c].mobile[0];
            const struct pool *p = pool_for(&s, m, countries[c].cc);
            if (!p)
                p = pool_for(&s, countries[c].res[0], countries[c].cc);
            for (int j = 0; j < 64; j++)
                pool_addr(p, &s.r, false, s.mobile_pool[c][k][j], 46);
        }
    }
    s.nusers = (uint32_t)users;
    s.days = (int)days;
    s.t0 = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    s.users = calloc(s.nusers, sizeof *s.users);
    s.day_rows = calloc((size_t)days, sizeof *s.day_rows);
    if (!s.users || !s.day_rows) {
        fprintf(stderr, "accountguard simulate: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < s.nusers; i++)
        user_new(&s, i);

    /* attacks, planned up front (after a week of history) */
    int64_t span = (int64_t)(days - 1) * 86400000;
    int64_t hist = days > 10 ? 7 * 86400000LL : span / 3;
    int ncamp = (int)(users / 1000) + 2;
    for (int k = 0; k < ncamp; k++)
        plan_stuffing(&s, s.t0 + hist + (int64_t)(runi(&s.r) * (double)(span - hist - 3 * 3600000LL)));
    uint32_t nvict = s.nusers / 50 + 2;
    for (uint32_t k = 0; k < nvict; k++) {
        enum label kind = k % 2 ? L_TARGETED : L_VPN;
        uint32_t v = rint_(&s.r, s.nusers);
        int64_t t = s.t0 + hist + (int64_t)(runi(&s.r) * (double)(span - hist - 86400000LL));
        plan_takeover(&s, v, kind, t);
    }

    FILE *out = strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "accountguard simulate: cannot write %s\n", out_path);
        return 1;
    }
    fprintf(out, "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,"
                 "City,ASN,User Agent String,Browser Name and Version,OS Name and Version,"
                 "Device Type,Login Successful,Is Attack IP,Is Account Takeover,Device ID,label\n");
    uint64_t index = 0;
    for (int day = 0; day < days; day++) {
        /* the day's legitimate logins */
        for (uint32_t ui = 0; ui < s.nusers; ui++) {
            struct user *u = &s.users[ui];
            if (rbern(&s.r, 0.03)) { /* the home address changes */
                pool_addr(pool_for(&s, u->home_asn, countries[u->country].cc), &s.r, u->home_v6,
                          u->home_ip, sizeof u->home_ip);
            }
            if (rbern(&s.r, 0.002)) { /* a new phone */
                device_new(&u->dev[0], rbern(&s.r, 0.55) ? T_ANDROID : T_IPHONE, &s.r);
                u->dev[0].lag = 0;
            }
            double lam = u->rate;
            int n = 0;
            double p = exp(-lam), cdf = p, x = runi(&s.r);
            while (x > cdf && n < 30) {
                n++;
                p *= lam / n;
                cdf += p;
            }
            for (int k = 0; k < n; k++) {
                double h = u->peak + 3.5 * rnorm(&s.r) - countries[u->country].utc_offset;
                double sec = fmod(h * 3600 + 864000, 86400);
                int64_t t = s.t0 + (int64_t)day * 86400000 + (int64_t)(sec * 1000);
                legit_login(&s, ui, day, t);
            }
        }
        struct rows *rs = &s.day_rows[day];
        qsort(rs->v, rs->n, sizeof *rs->v, row_cmp);
        for (size_t i = 0; i < rs->n; i++) {
            const struct row *w = &rs->v[i];
            char ts[96], uid[24];
            int64_t ms = w->t;
            time_t secs = (time_t)(ms / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            snprintf(ts, sizeof ts, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(ms % 1000));
            if (w->user == UINT32_MAX)
                fake_user_id(w->fake_id, uid, sizeof uid);
            else
                snprintf(uid, sizeof uid, "u%07u", w->user);
            struct ag_ipinfo info;
            ag_ipintel_lookup(s.ip, w->ip, &info);
            char devid[24] = "";
            if (w->devid)
                snprintf(devid, sizeof devid, "d%016llx", (unsigned long long)w->devid);
            bool attack = w->label != L_LEGIT;
            fprintf(out, "%llu,%s,%s,%d,%s,%s,,%s,%u,\"%s\",%s,%s,%s,%s,%s,%s,%s,%s\n",
                    (unsigned long long)index++, ts, uid, w->rtt, w->ip, info.country,
                    w->city ? w->city : "", info.asn, w->ua, w->browser, w->os, w->devtype,
                    w->ok ? "True" : "False", attack ? "True" : "False",
                    attack && w->ok ? "True" : "False", devid, label_names[w->label]);
        }
        free(rs->v);
        memset(rs, 0, sizeof *rs);
    }
    int rc = 0;
    if (out != stdout) {
        if (fclose(out)) {
            fprintf(stderr, "accountguard simulate: write error on %s\n", out_path);
            rc = 1;
        }
    } else if (fflush(out)) {
        rc = 1;
    }
    for (int i = 0; i < s.db.n; i++) {
        free(s.db.p[i].v4);
        free(s.db.p[i].v6);
    }
    free(s.db.p);
    free(s.users);
    free(s.day_rows);
    ag_ipintel_close(s.ip);
    return rc;
}
