//! snn_runtime.c - see snn_runtime.h. C11, libm and POSIX; no mutable static state but one
//! communicator in MPI builds (snn_rank_init), whose state MPI keeps per process anyway.
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE  /* madvise's MADV_HUGEPAGE (Linux), beside POSIX */

#include "snn_runtime.h"
#include "snn_support.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

//! Formats a message into err (if any) and returns -1, so errors read
//! `return fail(err, errlen, "...", ...);`.
static int fail(char *err, size_t errlen, const char *fmt, ...) SNN_PRINTF_LIKE(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ======================================================================== RNG */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

void snn_rng_seed(snn_rng *r, uint64_t seed, uint64_t stream)
{
    // Two splitmix64 sequences, one from the seed and one from the stream.
    // Each output is a bijection of its input, so for a given seed distinct
    // streams give distinct words s[k], hence distinct states.
    uint64_t a = seed, b = stream ^ 0x6A09E667F3BCC909u;
    for (int k = 0; k < 4; k++)
        r->s[k] = splitmix64(&a) ^ snn_rotl64(splitmix64(&b), 32);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;  // the all-zero state is the one xoshiro cannot leave
}

double snn_rng_normal(snn_rng *r)
{
    double u, v, s;
    do {
        u = 2.0 * snn_rng_uniform(r) - 1.0;
        v = 2.0 * snn_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

/* ======================================================= ziggurat (snn_ctr_normal) */

#define SNN_ZIG_R 3.6541528853610088  /* where the tail starts: snndsl/reference/ziggurat.py's R */

/* snndsl/reference/ziggurat.py's tables (c_tables()), checked by tests/runtime_c */
const uint64_t snn_zig_ki[256] = {
    UINT64_C(4208095142460473), UINT64_C(0), UINT64_C(3387314423377066), UINT64_C(3838760076329526),
    UINT64_C(4030768804284853), UINT64_C(4136731738831425), UINT64_C(4203757248061980), UINT64_C(4249917568175232),
    UINT64_C(4283617341567279), UINT64_C(4309289223118741), UINT64_C(4329489775160291), UINT64_C(4345795907381542),
    UINT64_C(4359232558735043), UINT64_C(4370494503729112), UINT64_C(4380069246208637), UINT64_C(4388308869036326),
    UINT64_C(4395473957544017), UINT64_C(4401761481779246), UINT64_C(4407323076017087), UINT64_C(4412277362214489),
    UINT64_C(4416718463609856), UINT64_C(4420722014513400), UINT64_C(4424349484774333), UINT64_C(4427651345406786),
    UINT64_C(4430669422002933), UINT64_C(4433438668973077), UINT64_C(4435988524276394), UINT64_C(4438343955928258),
    UINT64_C(4440526279075747), UINT64_C(4442553800233099), UINT64_C(4444442329864404), UINT64_C(4446205593656774),
    UINT64_C(4447855565092038), UINT64_C(4449402736338919), UINT64_C(4450856340407494), UINT64_C(4452224534495418),
    UINT64_C(4453514552209504), UINT64_C(4454732830655845), UINT64_C(4455885117108466), UINT64_C(4456976558984185),
    UINT64_C(4458011780093629), UINT64_C(4458994945549610), UINT64_C(4459929817253382), UINT64_C(4460819801516491),
    UINT64_C(4461667990088497), UINT64_C(4462477195631624), UINT64_C(4463249982499768), UINT64_C(4463988693531267),
    UINT64_C(4464695473444936), UINT64_C(4465372289331327), UINT64_C(4466020948651398), UINT64_C(4466643115089263),
    UINT64_C(4467240322551661), UINT64_C(4467813987562078), UINT64_C(4468365420260224), UINT64_C(4468895834186563),
    UINT64_C(4469406355005624), UINT64_C(4469898028299962), UINT64_C(4470371826548245), UINT64_C(4470828655385394),
    UINT64_C(4471269359229479), UINT64_C(4471694726348839), UINT64_C(4472105493433334), UINT64_C(4472502349725409),
    UINT64_C(4472885940759615), UINT64_C(4473256871753215), UINT64_C(4473615710685231), UINT64_C(4473962991096833),
    UINT64_C(4474299214642012), UINT64_C(4474624853414143), UINT64_C(4474940352071037), UINT64_C(4475246129778548),
    UINT64_C(4475542581990524), UINT64_C(4475830082080948), UINT64_C(4476108982842370), UINT64_C(4476379617863191),
    UINT64_C(4476642302795094), UINT64_C(4476897336520643), UINT64_C(4477145002230123), UINT64_C(4477385568415673),
    UINT64_C(4477619289790061), UINT64_C(4477846408136603), UINT64_C(4478067153096183), UINT64_C(4478281742896694),
    UINT64_C(4478490385029730), UINT64_C(4478693276878899), UINT64_C(4478890606303726), UINT64_C(4479082552182711),
    UINT64_C(4479269284918826), UINT64_C(4479450966910420), UINT64_C(4479627752990208), UINT64_C(4479799790834828),
    UINT64_C(4479967221347196), UINT64_C(4480130179013718), UINT64_C(4480288792238217), UINT64_C(4480443183654313),
    UINT64_C(4480593470417794), UINT64_C(4480739764480445), UINT64_C(4480882172846633), UINT64_C(4481020797813872),
    UINT64_C(4481155737198477), UINT64_C(4481287084547321), UINT64_C(4481414929336655), UINT64_C(4481539357158847),
    UINT64_C(4481660449897836), UINT64_C(4481778285894042), UINT64_C(4481892940099419), UINT64_C(4482004484223265),
    UINT64_C(4482112986869377), UINT64_C(4482218513665090), UINT64_C(4482321127382689), UINT64_C(4482420888053648),
    UINT64_C(4482517853076137), UINT64_C(4482612077316170), UINT64_C(4482703613202767), UINT64_C(4482792510817473),
    UINT64_C(4482878817978526), UINT64_C(4482962580319976), UINT64_C(4483043841366027), UINT64_C(4483122642600828),
    UINT64_C(4483199023533961), UINT64_C(4483273021761828), UINT64_C(4483344673025133), UINT64_C(4483414011262633),
    UINT64_C(4483481068661338), UINT64_C(4483545875703290), UINT64_C(4483608461209084), UINT64_C(4483668852378237),
    UINT64_C(4483727074826540), UINT64_C(4483783152620481), UINT64_C(4483837108308851), UINT64_C(4483888962951605),
    UINT64_C(4483938736146064), UINT64_C(4483986446050518), UINT64_C(4484032109405295), UINT64_C(4484075741551344),
    UINT64_C(4484117356446376), UINT64_C(4484156966678588), UINT64_C(4484194583478007), UINT64_C(4484230216725477),
    UINT64_C(4484263874959273), UINT64_C(4484295565379379), UINT64_C(4484325293849403), UINT64_C(4484353064896116),
    UINT64_C(4484378881706606), UINT64_C(4484402746123007), UINT64_C(4484424658634767), UINT64_C(4484444618368408),
    UINT64_C(4484462623074730), UINT64_C(4484478669113370), UINT64_C(4484492751434676), UINT64_C(4484504863558768),
    UINT64_C(4484514997551725), UINT64_C(4484523143998772), UINT64_C(4484529291974333), UINT64_C(4484533429008846),
    UINT64_C(4484535541052160), UINT64_C(4484535612433364), UINT64_C(4484533625816867), UINT64_C(4484529562154522),
    UINT64_C(4484523400633580), UINT64_C(4484515118620234), UINT64_C(4484504691598498), UINT64_C(4484492093104109),
    UINT64_C(4484477294653176), UINT64_C(4484460265665197), UINT64_C(4484440973380099), UINT64_C(4484419382768864),
    UINT64_C(4484395456437316), UINT64_C(4484369154522569), UINT64_C(4484340434581588), UINT64_C(4484309251471307),
    UINT64_C(4484275557219628), UINT64_C(4484239300886605), UINT64_C(4484200428415063), UINT64_C(4484158882469765),
    UINT64_C(4484114602264222), UINT64_C(4484067523374110), UINT64_C(4484017577536167), UINT64_C(4483964692431316),
    UINT64_C(4483908791450666), UINT64_C(4483849793442839), UINT64_C(4483787612440988), UINT64_C(4483722157367614),
    UINT64_C(4483653331715151), UINT64_C(4483581033200037), UINT64_C(4483505153387718), UINT64_C(4483425577285788),
    UINT64_C(4483342182902111), UINT64_C(4483254840764426), UINT64_C(4483163413397502), UINT64_C(4483067754753491),
    UINT64_C(4482967709590519), UINT64_C(4482863112794028), UINT64_C(4482753788634647), UINT64_C(4482639549955592),
    UINT64_C(4482520197281676), UINT64_C(4482395517841033), UINT64_C(4482265284489366), UINT64_C(4482129254525262),
    UINT64_C(4481987168383444), UINT64_C(4481838748191032), UINT64_C(4481683696169739), UINT64_C(4481521692864423),
    UINT64_C(4481352395175528), UINT64_C(4481175434169523), UINT64_C(4480990412637465), UINT64_C(4480796902367093),
    UINT64_C(4480594441088291), UINT64_C(4480382529045184), UINT64_C(4480160625140269), UINT64_C(4479928142586622),
    UINT64_C(4479684443993020), UINT64_C(4479428835793358), UINT64_C(4479160561915410), UINT64_C(4478878796564346),
    UINT64_C(4478582635972352), UINT64_C(4478271088936365), UINT64_C(4477943065929917), UINT64_C(4477597366530497),
    UINT64_C(4477232664848663), UINT64_C(4476847492576150), UINT64_C(4476440219183740), UINT64_C(4476009028690393),
    UINT64_C(4475551892286383), UINT64_C(4475066535915605), UINT64_C(4474550401693464), UINT64_C(4474000601739862),
    UINT64_C(4473413862618157), UINT64_C(4472786458058253), UINT64_C(4472114126958961), UINT64_C(4471391972746450),
    UINT64_C(4470614338917675), UINT64_C(4469774653883112), UINT64_C(4468865235838851), UINT64_C(4467877045039485),
    UINT64_C(4466799366045308), UINT64_C(4465619395558350), UINT64_C(4464321701199587), UINT64_C(4462887501169234),
    UINT64_C(4461293691124291), UINT64_C(4459511507635920), UINT64_C(4457504658253014), UINT64_C(4455226650324954),
    UINT64_C(4452616884242290), UINT64_C(4449594783440737), UINT64_C(4446050695647601), UINT64_C(4441831266659550),
    UINT64_C(4436714892173985), UINT64_C(4430368316897255), UINT64_C(4422264825074646), UINT64_C(4411517007702021),
    UINT64_C(4396496531309840), UINT64_C(4373832704204105), UINT64_C(4335125104963354), UINT64_C(4251099761678858),
};
const double snn_zig_wi[256] = {
    0x1.f493b78164498p-51, 0x1.b8d0be3d69918p-55, 0x1.250af3c200a69p-54, 0x1.57cb9383ae550p-54,
    0x1.801fce827fac5p-54, 0x1.a230c2e46389ep-54, 0x1.c004d2f328d93p-54, 0x1.dac2f5a6f3120p-54,
    0x1.f32482d4807a6p-54, 0x1.04d32278c832ep-53, 0x1.0f5053b004b4ep-53, 0x1.192a6973f450ap-53,
    0x1.227a28f78456ap-53, 0x1.2b52e38621b30p-53, 0x1.33c3fc055e9edp-53, 0x1.3bd9ec1a11c06p-53,
    0x1.439ef8dfe170ap-53, 0x1.4b1bb363c898dp-53, 0x1.5257562196c1cp-53, 0x1.59580a70673c9p-53,
    0x1.60231cfd82f9bp-53, 0x1.66bd261a2377ep-53, 0x1.6d2a291feca73p-53, 0x1.736dad345c6b6p-53,
    0x1.798ad10b200f0p-53, 0x1.7f845ad45d397p-53, 0x1.855cc5341f023p-53, 0x1.8b1649e7a632cp-53,
    0x1.90b2ea94dc2a8p-53, 0x1.96347822b1818p-53, 0x1.9b9c98e37c43bp-53, 0x1.a0eccdca3ab98p-53,
    0x1.a62676d76d6f5p-53, 0x1.ab4ad6e0f24bap-53, 0x1.b05b16d127fd5p-53, 0x1.b5584874191dap-53,
    0x1.ba4368e51bb30p-53, 0x1.bf1d62abea23bp-53, 0x1.c3e70f95872e0p-53, 0x1.c8a13a531630bp-53,
    0x1.cd4c9fe7151cap-53, 0x1.d1e9f0e7fe5f7p-53, 0x1.d679d29e3510dp-53, 0x1.dafce0022edeep-53,
    0x1.df73aa9f0ae8dp-53, 0x1.e3debb5d2292dp-53, 0x1.e83e93379ad08p-53, 0x1.ec93abdf8c395p-53,
    0x1.f0de784efa595p-53, 0x1.f51f654d83c88p-53, 0x1.f956d9e87202bp-53, 0x1.fd8537df97991p-53,
    0x1.00d56e041db89p-52, 0x1.02e40f5393759p-52, 0x1.04eea9e164ed4p-52, 0x1.06f565b7249f9p-52,
    0x1.08f8690719efdp-52, 0x1.0af7d84bc0d06p-52, 0x1.0cf3d664b796dp-52, 0x1.0eec84b15b64dp-52,
    0x1.10e203294c4bdp-52, 0x1.12d470730bf74p-52, 0x1.14c3e9f8e41d8p-52, 0x1.16b08bfc3d191p-52,
    0x1.189a71a788c7ep-52, 0x1.1a81b51ee20a3p-52, 0x1.1c666f8f7deb3p-52, 0x1.1e48b93e088dcp-52,
    0x1.2028a99405610p-52, 0x1.2206572c47d17p-52, 0x1.23e1d7de97a07p-52, 0x1.25bb40ca92399p-52,
    0x1.2792a661d8bcdp-52, 0x1.29681c7199017p-52, 0x1.2b3bb62b7e880p-52, 0x1.2d0d862e172a1p-52,
    0x1.2edd9e8cb647fp-52, 0x1.30ac10d6e0469p-52, 0x1.3278ee1f4755fp-52, 0x1.3444470261b6ap-52,
    0x1.360e2baca1034p-52, 0x1.37d6abe05165dp-52, 0x1.399dd6fb270e9p-52, 0x1.3b63bbfb7fc17p-52,
    0x1.3d2869855dd80p-52, 0x1.3eebede721aacp-52, 0x1.40ae571e05f24p-52, 0x1.426fb2da63591p-52,
    0x1.44300e83bf25ap-52, 0x1.45ef773ca8993p-52, 0x1.47adf9e6685eap-52, 0x1.496ba3248525ep-52,
    0x1.4b287f6020506p-52, 0x1.4ce49acb2d5fdp-52, 0x1.4ea0016386a9cp-52, 0x1.505abef5e1a6dp-52,
    0x1.5214df20a50d8p-52, 0x1.53ce6d56a2c3dp-52, 0x1.558774e1b7925p-52, 0x1.574000e552644p-52,
    0x1.58f81c60e4c4cp-52, 0x1.5aafd2323e2fbp-52, 0x1.5c672d17d3b48p-52, 0x1.5e1e37b2f5545p-52,
    0x1.5fd4fc89f270fp-52, 0x1.618b860a2e8ffp-52, 0x1.6341de8a27a41p-52, 0x1.64f8104b6f00cp-52,
    0x1.66ae257c960d3p-52, 0x1.6864283b0fbf7p-52, 0x1.6a1a229507dcfp-52, 0x1.6bd01e8b30f36p-52,
    0x1.6d86261289f28p-52, 0x1.6f3c43161c483p-52, 0x1.70f27f78b3573p-52, 0x1.72a8e5168e1a6p-52,
    0x1.745f7dc70bc13p-52, 0x1.7616535e540adp-52, 0x1.77cd6faefc22dp-52, 0x1.7984dc8ba8bcbp-52,
    0x1.7b3ca3c8ae294p-52, 0x1.7cf4cf3daf1d9p-52, 0x1.7ead68c73ae15p-52, 0x1.80667a486b99ep-52,
    0x1.82200dac85645p-52, 0x1.83da2ce896f32p-52, 0x1.8594e1fd1c628p-52, 0x1.875036f7a4f7ep-52,
    0x1.890c35f47c831p-52, 0x1.8ac8e92059192p-52, 0x1.8c865aba0de35p-52, 0x1.8e44951443c0ap-52,
    0x1.9003a297387bcp-52, 0x1.91c38dc2855bcp-52, 0x1.9384612eeddb8p-52, 0x1.954627903758cp-52,
    0x1.9708ebb70a936p-52, 0x1.98ccb892dfdbfp-52, 0x1.9a919933f6d92p-52, 0x1.9c5798cd5ad43p-52,
    0x1.9e1ec2b6f486dp-52, 0x1.9fe7226faa6eap-52, 0x1.a1b0c39f90b75p-52, 0x1.a37bb21a29d81p-52,
    0x1.a547f9e0b90efp-52, 0x1.a715a724a7f4dp-52, 0x1.a8e4c64a00726p-52, 0x1.aab563e9fc731p-52,
    0x1.ac878cd5acc36p-52, 0x1.ae5b4e18b89dep-52, 0x1.b030b4fc37800p-52, 0x1.b207cf09a6f7ep-52,
    0x1.b3e0aa0dfe361p-52, 0x1.b5bb541ce14a1p-52, 0x1.b797db93f6101p-52, 0x1.b9764f1e5cf51p-52,
    0x1.bb56bdb84fdbep-52, 0x1.bd3936b2e992ep-52, 0x1.bf1dc9b81874ap-52, 0x1.c10486cebefa2p-52,
    0x1.c2ed7e5f05369p-52, 0x1.c4d8c136de693p-52, 0x1.c6c6608ec60b5p-52, 0x1.c8b66e0eb8000p-52,
    0x1.caa8fbd367ccdp-52, 0x1.cc9e1c73bb0eap-52, 0x1.ce95e3068bacap-52, 0x1.d0906328b6a39p-52,
    0x1.d28db1037ca23p-52, 0x1.d48de1533a181p-52, 0x1.d691096e7cc94p-52, 0x1.d8973f4d7d74dp-52,
    0x1.daa0999204a4dp-52, 0x1.dcad2f8fc2520p-52, 0x1.debd195520a7ep-52, 0x1.e0d06fb49ae98p-52,
    0x1.e2e74c4ea23a7p-52, 0x1.e501c99c1ae6fp-52, 0x1.e72002f97db41p-52, 0x1.e94214b2a9c5cp-52,
    0x1.eb681c0f74c90p-52, 0x1.ed923761084f7p-52, 0x1.efc086101ca9bp-52, 0x1.f1f328ac23146p-52,
    0x1.f42a40fb72bc7p-52, 0x1.f665f20c8dff6p-52, 0x1.f8a6604897644p-52, 0x1.faebb187101b4p-52,
    0x1.fd360d22fc6aep-52, 0x1.ff859c118d567p-52, 0x1.00ed447d3903dp-51, 0x1.021a8028fb929p-51,
    0x1.034a983a8f2a6p-51, 0x1.047da4e3ee5dbp-51, 0x1.05b3bf6ada3acp-51, 0x1.06ed023a716b0p-51,
    0x1.082988f631e79p-51, 0x1.0969708e892d0p-51, 0x1.0aacd7571b15ap-51, 0x1.0bf3dd1eec4f7p-51,
    0x1.0d3ea34aa2df9p-51, 0x1.0e8d4cf115675p-51, 0x1.0fdffefa690b2p-51, 0x1.1136e04206156p-51,
    0x1.129219bbb4e64p-51, 0x1.13f1d69c3fab5p-51, 0x1.1556448601f9dp-51, 0x1.16bf93b9de06ep-51,
    0x1.182df74d203f5p-51, 0x1.19a1a564edd5ap-51, 0x1.1b1ad777f2157p-51, 0x1.1c99ca9719877p-51,
    0x1.1e1ebfbe4a036p-51, 0x1.1fa9fc2e2cb18p-51, 0x1.213bc9d04beb3p-51, 0x1.22d477a6fc63bp-51,
    0x1.24745a4ac8e8bp-51, 0x1.261bcc7764b62p-51, 0x1.27cb2faa84bcbp-51, 0x1.2982ecd770131p-51,
    0x1.2b4375329fd27p-51, 0x1.2d0d43196ce88p-51, 0x1.2ee0db1a96c02p-51, 0x1.30becd256a217p-51,
    0x1.32a7b5e6897e9p-51, 0x1.349c405ae0606p-51, 0x1.369d27a339bc1p-51, 0x1.38ab3925634a9p-51,
    0x1.3ac7570ae7cb8p-51, 0x1.3cf27b316f883p-51, 0x1.3f2dbaa60e871p-51, 0x1.417a49cb9d9f6p-51,
    0x1.43d98155452d1p-51, 0x1.464ce44a72e74p-51, 0x1.48d62759c383dp-51, 0x1.4b7739d6b4eccp-51,
    0x1.4e3250dcd7dccp-51, 0x1.5109f53e9a131p-51, 0x1.54011523a7359p-51, 0x1.571b1a94ad95ap-51,
    0x1.5a5c08b718342p-51, 0x1.5dc8a243ac693p-51, 0x1.61669cf86140fp-51, 0x1.653ce7b0060dfp-51,
    0x1.69540be9fdbedp-51, 0x1.6db6b8d09d896p-51, 0x1.72728f05f70d7p-51, 0x1.779955608fd5bp-51,
    0x1.7d42df4d6c5c3p-51, 0x1.839030529e9c6p-51, 0x1.8ab0fbfaa7412p-51, 0x1.92ee0946f3d1ap-51,
    0x1.9cbee014050dfp-51, 0x1.a8fdc7894718cp-51, 0x1.b981f3878f995p-51, 0x1.d3bb48209ad33p-51,
};
const double snn_zig_fi[256] = {
    0x1.0000000000000p+0, 0x1.f446ac97c0265p-1, 0x1.eb7545b6e5a2dp-1, 0x1.e3f11e0296bb2p-1,
    0x1.dd36fa70635f9p-1, 0x1.d70920658fa12p-1, 0x1.d144978a24289p-1, 0x1.cbd33a8a84602p-1,
    0x1.c6a5eceaa82b8p-1, 0x1.c1b1cd9efb947p-1, 0x1.bceeb4ee2d08dp-1, 0x1.b85653a90e040p-1,
    0x1.b3e3a8235bfdap-1, 0x1.af92a3f6dc413p-1, 0x1.ab5fef17af9c6p-1, 0x1.a748bd5519883p-1,
    0x1.a34aafdf6780cp-1, 0x1.9f63bee65e399p-1, 0x1.9b9228d24c563p-1, 0x1.97d4657623514p-1,
    0x1.94291c21c3052p-1, 0x1.908f1bd322352p-1, 0x1.8d0554fe6b8dcp-1, 0x1.898ad48bb899ap-1,
    0x1.861ebfc3863d6p-1, 0x1.82c050f577355p-1, 0x1.7f6ed4b218395p-1, 0x1.7c29a779d0627p-1,
    0x1.78f033ca14bc9p-1, 0x1.75c1f0771708dp-1, 0x1.729e5f44002a7p-1, 0x1.6f850baeb0dfbp-1,
    0x1.6c7589e63eb25p-1, 0x1.696f75e51c96bp-1, 0x1.667272a936f1ep-1, 0x1.637e2985595dfp-1,
    0x1.609249880ae0ap-1, 0x1.5dae86f4b84fep-1, 0x1.5ad29acc8e01cp-1, 0x1.57fe4264d0f30p-1,
    0x1.55313f08e1e03p-1, 0x1.526b55a65eabbp-1, 0x1.4fac4e8213283p-1, 0x1.4cf3f4f49c91ep-1,
    0x1.4a42172dccb23p-1, 0x1.479685fdfc714p-1, 0x1.44f114a49abddp-1, 0x1.425198a35d3b3p-1,
    0x1.3fb7e9958cdc7p-1, 0x1.3d23e10afa266p-1, 0x1.3a955a6633c57p-1, 0x1.380c32bda6eadp-1,
    0x1.358848bf5bd57p-1, 0x1.33097c970a541p-1, 0x1.308fafd64a29fp-1, 0x1.2e1ac55eaa449p-1,
    0x1.2baaa14d7fc57p-1, 0x1.293f28e9432dbp-1, 0x1.26d8429056971p-1, 0x1.2475d5a913eccp-1,
    0x1.2217ca9305a04p-1, 0x1.1fbe0a992f702p-1, 0x1.1d687fe54f920p-1, 0x1.1b17157402fa1p-1,
    0x1.18c9b709b99bdp-1, 0x1.168051286962ap-1, 0x1.143ad105f04d3p-1, 0x1.11f924831795cp-1,
    0x1.0fbb3a232b228p-1, 0x1.0d81010419aaap-1, 0x1.0b4a68d7130b1p-1, 0x1.091761d99b381p-1,
    0x1.06e7dccf09138p-1, 0x1.04bbcafa69335p-1, 0x1.02931e18bd539p-1, 0x1.006dc85b91cdep-1,
    0x1.fc9778c7c5ff1p-2, 0x1.f859da7a9a13dp-2, 0x1.f4229cb301990p-2, 0x1.eff1a717f2c62p-2,
    0x1.ebc6e20bdba59p-2, 0x1.e7a236a4f5d07p-2, 0x1.e3838ea603307p-2, 0x1.df6ad4776cfd2p-2,
    0x1.db57f320beac8p-2, 0x1.d74ad6427709cp-2, 0x1.d3436a102a142p-2, 0x1.cf419b4aeea8ep-2,
    0x1.cb45573c135cbp-2, 0x1.c74e8bb0163b2p-2, 0x1.c35d26f1db70fp-2, 0x1.bf7117c61f2dep-2,
    0x1.bb8a4d671f4cdp-2, 0x1.b7a8b780798d0p-2, 0x1.b3cc462b3b5fcp-2, 0x1.aff4e9ea20806p-2,
    0x1.ac2293a5fdbd7p-2, 0x1.a85534aa55844p-2, 0x1.a48cbea213e9ep-2, 0x1.a0c923947011ep-2,
    0x1.9d0a55e1f0f53p-2, 0x1.9950484193ad3p-2, 0x1.959aedbe1183bp-2, 0x1.91ea39b344260p-2,
    0x1.8e3e1fcba6703p-2, 0x1.8a9693fdf061cp-2, 0x1.86f38a8accdf4p-2, 0x1.8354f7faa7fc5p-2,
    0x1.7fbad11b949adp-2, 0x1.7c250aff48400p-2, 0x1.78939af92c0f3p-2, 0x1.7506769c81eafp-2,
    0x1.717d93ba9cccdp-2, 0x1.6df8e8612b6ecp-2, 0x1.6a786ad894727p-2, 0x1.66fc11a2633afp-2,
    0x1.6383d377c4babp-2, 0x1.600fa74813828p-2, 0x1.5c9f843772671p-2, 0x1.5933619d751bcp-2,
    0x1.55cb3703d62d1p-2, 0x1.5266fc2539c94p-2, 0x1.4f06a8ebfcd13p-2, 0x1.4baa35710fafep-2,
    0x1.485199fadc80dp-2, 0x1.44fccefc38117p-2, 0x1.41abcd135d515p-2, 0x1.3e5e8d08f2cbbp-2,
    0x1.3b1507cf19c77p-2, 0x1.37cf368086b2cp-2, 0x1.348d125fa283fp-2, 0x1.314e94d5b4bbep-2,
    0x1.2e13b77215be5p-2, 0x1.2adc73e96934ep-2, 0x1.27a8c414e0385p-2, 0x1.2478a1f182fe8p-2,
    0x1.214c079f81cf7p-2, 0x1.1e22ef618d06bp-2, 0x1.1afd539c33ea1p-2, 0x1.17db2ed54a239p-2,
    0x1.14bc7bb353ab8p-2, 0x1.11a134fcf6f75p-2, 0x1.0e8955987541ap-2, 0x1.0b74d88b28c36p-2,
    0x1.0863b8f908b9bp-2, 0x1.0555f22433149p-2, 0x1.024b7f6c7baf9p-2, 0x1.fe88b89e01ed8p-3,
    0x1.f88108cb8bb6bp-3, 0x1.f27fe6cea202ap-3, 0x1.ec854a4ca21c2p-3, 0x1.e6912b228c089p-3,
    0x1.e0a381645f35fp-3, 0x1.dabc455c81015p-3, 0x1.d4db6f8b2cf92p-3, 0x1.cf00f8a5eec4bp-3,
    0x1.c92cd99725a10p-3, 0x1.c35f0b7d91641p-3, 0x1.bd9787abe8fdep-3, 0x1.b7d647a87a72bp-3,
    0x1.b21b452cd4505p-3, 0x1.ac667a2578a1bp-3, 0x1.a6b7e0b1996e0p-3, 0x1.a10f7322decf1p-3,
    0x1.9b6d2bfd36b63p-3, 0x1.95d105f6ae788p-3, 0x1.903afbf756425p-3, 0x1.8aab09192e973p-3,
    0x1.852128a8200b0p-3, 0x1.7f9d5621fd650p-3, 0x1.7a1f8d3690665p-3, 0x1.74a7c9c7b1751p-3,
    0x1.6f3607e96a72fp-3, 0x1.69ca43e2250e8p-3, 0x1.64647a2ae4e9cp-3, 0x1.5f04a76f8df6fp-3,
    0x1.59aac88f3775cp-3, 0x1.5456da9c8c09dp-3, 0x1.4f08dade376a4p-3, 0x1.49c0c6cf6238ep-3,
    0x1.447e9c203c9b4p-3, 0x1.3f4258b698410p-3, 0x1.3a0bfaae928d4p-3, 0x1.34db805b4fafap-3,
    0x1.2fb0e847c7863p-3, 0x1.2a8c3137a53a6p-3, 0x1.256d5a283a9d2p-3, 0x1.20546251885e5p-3,
    0x1.1b4149275c58ap-3, 0x1.16340e5a87443p-3, 0x1.112cb1da2b434p-3, 0x1.0c2b33d524dd1p-3,
    0x1.072f94bb9023dp-3, 0x1.0239d5406be88p-3, 0x1.fa93ecb6ba232p-4, 0x1.f0bff29528b67p-4,
    0x1.e6f7bf29b1feap-4, 0x1.dd3b561776082p-4, 0x1.d38abb9be0731p-4, 0x1.c9e5f493be6bdp-4,
    0x1.c04d0680b802cp-4, 0x1.b6bff78f34fb7p-4, 0x1.ad3ece9cb6128p-4, 0x1.a3c9933eacaf5p-4,
    0x1.9a604dc9dc0fep-4, 0x1.9103075a50413p-4, 0x1.87b1c9dbf893ep-4, 0x1.7e6ca013f4e4dp-4,
    0x1.753395aaa6d7fp-4, 0x1.6c06b7369a3e7p-4, 0x1.62e612485a445p-4, 0x1.59d1b5774bb6bp-4,
    0x1.50c9b06fa7e17p-4, 0x1.47ce1401b7223p-4, 0x1.3edef2326e83cp-4, 0x1.35fc5e4d989d0p-4,
    0x1.2d266cf9b7a28p-4, 0x1.245d344dd5460p-4, 0x1.1ba0cbe97ce08p-4, 0x1.12f14d0f259e6p-4,
    0x1.0a4ed2c15d631p-4, 0x1.01b979e31226fp-4, 0x1.f262c2b6ce583p-5, 0x1.e16d547b2c47cp-5,
    0x1.d092efeae600ap-5, 0x1.bfd3e0f289491p-5, 0x1.af3079038c597p-5, 0x1.9ea90f929b758p-5,
    0x1.8e3e02a691375p-5, 0x1.7defb77af80c9p-5, 0x1.6dbe9b3992600p-5, 0x1.5dab23cf2ff69p-5,
    0x1.4db5d0e1174f2p-5, 0x1.3ddf2ce993869p-5, 0x1.2e27ce83e3a4fp-5, 0x1.1e9059f1fac92p-5,
    0x1.0f1982e96be0fp-5, 0x1.ff881d7191a2cp-6, 0x1.e121adb82f964p-6, 0x1.c301983cd6ea9p-6,
    0x1.a529f4e234a42p-6, 0x1.879d1b6011823p-6, 0x1.6a5daf40c0f87p-6, 0x1.4d6eaf2fbf966p-6,
    0x1.30d388daba032p-6, 0x1.1490334606b67p-6, 0x1.f152a4f734696p-7, 0x1.ba48d274febdcp-7,
    0x1.841040d8df3cap-7, 0x1.4eb96421b129fp-7, 0x1.1a5922995660bp-7, 0x1.ce160f8ecbd47p-8,
    0x1.69ea8d90cf658p-8, 0x1.08a1f03b0d9d6p-8, 0x1.55f9f43c1d644p-9, 0x1.4a605b6b9f70fp-10,
};

double snn_ctr_normal_slow(snn_ctr *r, uint64_t bits)
{
    for (;;) {
        const unsigned layer = (unsigned)(bits & 0xFFu);
        const uint64_t rabs = (bits >> 9) & 0x000FFFFFFFFFFFFFu;
        const int negative = (int)((bits >> 8) & 1u);
        double x = (double)rabs * snn_zig_wi[layer];
        if (negative) x = -x;
        if (rabs < snn_zig_ki[layer]) return x;
        if (layer == 0) {  /* the tail beyond R (Marsaglia 1964) */
            for (;;) {
                const double xx = -(1.0 / SNN_ZIG_R) * log1p(-snn_ctr_uniform(r));
                const double yy = -log1p(-snn_ctr_uniform(r));
                if (yy + yy > xx * xx) return (rabs >> 8) & 1u ? -(SNN_ZIG_R + xx) : SNN_ZIG_R + xx;
            }
        }
        if ((snn_zig_fi[layer - 1] - snn_zig_fi[layer]) * snn_ctr_uniform(r) + snn_zig_fi[layer] < exp(-0.5 * x * x))
            return x;
        bits = snn_ctr_bits(r);
    }
}

/* ================================================================== binomial */

/* log(k!) - the leading terms of Stirling's series, (k + 1/2) log(k + 1) -
 * (k + 1) + log(2 pi) / 2: exact values below 10, else the series' tail. */
static double snn_stirling_tail(double k)
{
    static const double tail[10] = {
        0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
        0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
        0.009255462182712733, 0.00833056343336287,
    };
    if (k <= 9) return tail[(int)k];
    double kp1sq = (k + 1) * (k + 1);
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1);
}

void snn_binomial_prepare(snn_binomial_t *b, int64_t n, double p)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    b->flip = p > 0.5;
    double P = b->flip ? 1.0 - p : p, q = 1.0 - P;
    b->P = P;
    b->q = q;
    if ((double)n * P < 10) {
        b->qn = exp((double)n * log(q));
        b->bound = fmin((double)n, (double)n * P + 10.0 * sqrt((double)n * P * q + 1));
        return;
    }
    b->rejection = 1;
    double spq = sqrt((double)n * P * q);
    b->b = 1.15 + 2.53 * spq;
    b->a = -0.0873 + 0.0248 * b->b + 0.01 * P;
    b->c = (double)n * P + 0.5;
    b->vr = 0.92 - 4.2 / b->b;
    b->alpha = (2.83 + 5.1 / b->b) * spq;
    b->r = P / q;
    b->m = floor((double)(n + 1) * P);
    b->h = snn_stirling_tail(b->m) + snn_stirling_tail((double)n - b->m);
}

/* One draw for snn_binomial_draw(_ctr), from either kind of generator. */
static double snn_uniform_seq(void *r) { return snn_rng_uniform((snn_rng *)r); }
static double snn_uniform_ctr(void *r) { return snn_ctr_uniform((snn_ctr *)r); }

static int64_t snn_binomial_from(const snn_binomial_t *b, double (*uniform)(void *), void *r);

int64_t snn_binomial_draw(const snn_binomial_t *b, snn_rng *r) { return snn_binomial_from(b, snn_uniform_seq, r); }
int64_t snn_binomial_draw_ctr(const snn_binomial_t *b, snn_ctr *r) { return snn_binomial_from(b, snn_uniform_ctr, r); }

static int64_t snn_binomial_from(const snn_binomial_t *b, double (*uniform)(void *), void *r)
{
    const int64_t n = b->n;
    if (n <= 0 || !(b->P > 0)) return b->flip ? n : 0;
    double k;
    if (!b->rejection) {  /* inversion: numpy's random_binomial_inversion */
        int64_t x = 0;
        double px = b->qn, u = uniform(r);
        while (u > px) {
            x++;
            if ((double)x > b->bound) {
                x = 0;
                px = b->qn;
                u = uniform(r);
            } else {
                u -= px;
                px = ((double)(n - x + 1) * b->P * px) / ((double)x * b->q);
            }
        }
        k = (double)x;
    } else {  /* BTRS (Hoermann 1993, steps 1 to 3.3) */
        const double nd = (double)n, m = b->m;
        for (;;) {
            double u = uniform(r) - 0.5, v = uniform(r);
            double us = 0.5 - fabs(u);
            if (us <= 0) continue;
            k = floor((2 * b->a / us + b->b) * u + b->c);
            if (k < 0 || k > nd) continue;
            if (us >= 0.07 && v <= b->vr) break;
            double w = v * b->alpha / (b->a / (us * us) + b->b);
            double lv = w > 0 ? log(w) : -HUGE_VAL;
            double bound = (m + 0.5) * log((m + 1) / (b->r * (nd - m + 1)))
                           + (nd + 1) * log((nd - m + 1) / (nd - k + 1))
                           + (k + 0.5) * log(b->r * (nd - k + 1) / (k + 1))
                           + b->h - snn_stirling_tail(k) - snn_stirling_tail(nd - k);
            if (lv <= bound) break;
        }
    }
    return b->flip ? n - (int64_t)k : (int64_t)k;
}

/* ===================================================================== buffer */

void snn_buf_init(snn_buf *b, size_t elsize)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->elsize = elsize;
}

int snn_buf_reserve(snn_buf *b, size_t n_more)
{
    if (n_more <= b->cap - b->len)
        return 0;
    if (n_more > SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + n_more, cap = b->cap ? b->cap : 16;
    while (cap < need)
        cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
    if (b->elsize && cap > SIZE_MAX / b->elsize)
        return -1;
    void *p = realloc(b->data, b->elsize ? cap * b->elsize : 1);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

//! Adds x to the open-addressing set (empty slots -1, `bits` = log2 of its
//! size); 0 if it was there already.
static int set_insert(int64_t *set, int bits, int64_t x)
{
    uint64_t mask = ((uint64_t)1 << bits) - 1, h = ((uint64_t)x * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits);
    for (;; h = (h + 1) & mask) {
        if (set[h] == x)
            return 0;
        if (set[h] < 0) {
            set[h] = x;
            return 1;
        }
    }
}

int snn_choose(snn_rng *rng, int64_t n, int64_t k, snn_buf *chosen, snn_buf *table)
{
    chosen->len = table->len = 0;
    if (k <= 0)
        return 0;
    int bits = 4;
    while (((int64_t)1 << bits) < 2 * k)
        bits++;
    size_t slots = (size_t)1 << bits;
    if (snn_buf_reserve(table, slots) || snn_buf_reserve(chosen, (size_t)k))
        return -1;
    int64_t *set = table->data, *out = chosen->data;
    for (size_t s = 0; s < slots; s++)
        set[s] = -1;
    for (int64_t t = n - k; t < n; t++) {
        int64_t r = (int64_t)(snn_rng_uniform(rng) * (double)(t + 1));
        if (!set_insert(set, bits, r)) {
            r = t;  /* never chosen before: every earlier value is below it */
            set_insert(set, bits, r);
        }
        out[chosen->len++] = r;
    }
    qsort(out, (size_t)k, sizeof *out, cmp_int64);
    return 0;
}

int snn_buf_push(snn_buf *b, const void *elem)
{
    if (snn_buf_reserve(b, 1))
        return -1;
    memcpy(snn_buf_at(b, b->len++), elem, b->elsize);
    return 0;
}

void snn_buf_free(snn_buf *b)
{
    free(b->data);
    snn_buf_init(b, b->elsize);
}

/* ============================================================= string builder */

void snn_sb_init(snn_sb *b)
{
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

//! Makes room for n more characters plus the terminating NUL.
static int sb_grow(snn_sb *b, size_t n)
{
    if (b->failed)
        return -1;
    if (n < b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 4 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap <= b->len + n)
        cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->s = p;
    b->cap = cap;
    return 0;
}

static void sb_putn(snn_sb *b, const char *s, size_t n)
{
    if (sb_grow(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void snn_sb_printf(snn_sb *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
    if (n < 0)
        b->failed = 1;
    else if ((size_t)n >= room && sb_grow(b, (size_t)n) == 0)
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, again);
    if (!b->failed)
        b->len += (size_t)n;
    else if (b->s)
        b->s[b->len] = '\0';  // undo a truncated first attempt
    va_end(again);
    va_end(ap);
}

void snn_sb_json_string(snn_sb *b, const char *s)
{
    if (!s) {
        sb_putn(b, "null", 4);
        return;
    }
    sb_putn(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  sb_putn(b, "\\\"", 2); break;
        case '\\': sb_putn(b, "\\\\", 2); break;
        case '\n': sb_putn(b, "\\n", 2); break;
        case '\t': sb_putn(b, "\\t", 2); break;
        case '\r': sb_putn(b, "\\r", 2); break;
        case '\b': sb_putn(b, "\\b", 2); break;
        case '\f': sb_putn(b, "\\f", 2); break;
        default:
            if (*p < 0x20)
                snn_sb_printf(b, "\\u%04x", *p);
            else
                sb_putn(b, (const char *)p, 1);  // UTF-8 bytes pass through
        }
    }
    sb_putn(b, "\"", 1);
}

void snn_sb_json_double(snn_sb *b, double x)
{
    if (!isfinite(x)) {
        sb_putn(b, "null", 4);
        return;
    }
    char buf[32];
    for (int prec = 15; prec <= 17; prec++) {  // the fewest digits that read back exactly
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    sb_putn(b, buf, strlen(buf));
}

void snn_sb_free(snn_sb *b)
{
    free(b->s);
    snn_sb_init(b);
}

/* ======================================================================== npy */

//! A numpy type string such as "<f8": kind ('b', 'i', 'u' or 'f'), item size
//! in bytes and byte order.
typedef struct { char kind; int size; bool big; } npy_type;

static bool host_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 0;
}

//! Parses a type string; NULL if supported, else why not.
static const char *npy_type_parse(const char *descr, npy_type *t)
{
    const char *p = descr;
    t->big = host_big_endian();
    if (*p == '<' || *p == '>' || *p == '|' || *p == '=') {
        if (*p != '=' && *p != '|')
            t->big = *p == '>';
        p++;
    }
    t->kind = *p ? *p++ : '\0';
    switch (t->kind) {
    case 'b': case 'i': case 'u': case 'f': case '?': break;
    case 'c': return "complex numbers";
    case 'O': return "Python objects";
    case 'S': case 'U': case 'a': return "strings";
    case 'V': return "structured or void data";
    case 'M': case 'm': return "datetimes";
    default: return "unknown type";
    }
    int s = 0;
    while (isdigit((unsigned char)*p) && s < 1000)
        s = s * 10 + (*p++ - '0');
    if (t->kind == '?' && s == 0) {
        t->kind = 'b';
        s = 1;
    }
    t->size = s;
    if (*p)
        return "malformed type string";
    if (t->kind == 'b')
        return s == 1 ? NULL : "bool of more than one byte";
    if (t->kind == 'f')
        return s == 2 || s == 4 || s == 8 ? NULL : "float of unsupported size";
    return s == 1 || s == 2 || s == 4 || s == 8 ? NULL : "integer of unsupported size";
}

static double half_to_double(unsigned h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m | 0x400, e - 25);
    return (h & 0x8000) ? -v : v;
}

//! Converts one item of type t at p to double.
static double npy_decode(const unsigned char *p, const npy_type *t)
{
    uint64_t raw = 0;
    for (int k = 0; k < t->size; k++)
        raw |= (uint64_t)p[k] << (8 * (t->big ? t->size - 1 - k : k));
    if (t->kind == 'b')
        return raw != 0;
    if (t->kind == 'u')
        return (double)raw;
    if (t->kind == 'i') {
        int bits = 8 * t->size;
        if (bits < 64 && (raw >> (bits - 1)) & 1)
            raw |= ~(uint64_t)0 << bits;  // sign-extend
        int64_t v;
        memcpy(&v, &raw, 8);
        return (double)v;
    }
    if (t->size == 8) {
        double d;
        memcpy(&d, &raw, 8);
        return d;
    }
    if (t->size == 4) {
        uint32_t w = (uint32_t)raw;
        float f;
        memcpy(&f, &w, 4);
        return f;
    }
    return half_to_double((unsigned)raw);
}

//! The .npy preamble and header of an array (format 1.0), into h (at least
//! SNN_NPY_HEAD bytes); gives the header's length and the data's size.
#define SNN_NPY_HEAD 1040
static int npy_head(const char *path, const char *descr, int ndim, const size_t *shape, const void *data,
                    unsigned char *h, size_t *hlen, size_t *nbytes, char *err, size_t errlen)
{
    npy_type t;
    const char *why = npy_type_parse(descr ? descr : "", &t);
    if (why)
        return fail(err, errlen, "cannot write '%s': dtype '%s' not supported (%s)", path,
                    descr ? descr : "(null)", why);
    if (ndim < 0 || ndim > 8 || (ndim > 0 && !shape))
        return fail(err, errlen, "cannot write '%s': %d dimensions (0 to 8 supported)", path, ndim);

    // The header is a Python dict literal, as numpy writes it: sorted keys,
    // spare room for the first axis to grow, padded with spaces so that the
    // data starts at a multiple of 64 bytes, ending in '\n'.
    char *d = (char *)h + 10;
    const size_t room = SNN_NPY_HEAD - 10;
    size_t size = 1;
    int n = snprintf(d, room, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int k = 0; k < ndim; k++) {
        if (shape[k] && size > SIZE_MAX / shape[k] / (size_t)t.size)
            return fail(err, errlen, "cannot write '%s': array too large", path);
        size *= shape[k];
        n += snprintf(d + n, room - (size_t)n, "%zu%s", shape[k], ndim == 1 ? "," : k + 1 < ndim ? ", " : "");
    }
    n += snprintf(d + n, room - (size_t)n, "), }");
    if (ndim > 0)
        n += snprintf(d + n, room - (size_t)n, "%*s", 21 - snprintf(NULL, 0, "%zu", shape[0]), "");
    int pad = 64 - (10 + n + 1) % 64;
    memset(d + n, ' ', (size_t)pad);
    n += pad;
    d[n++] = '\n';
    const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff),
                                   (unsigned char)(n >> 8)};
    memcpy(h, pre, 10);
    *hlen = 10 + (size_t)n;
    *nbytes = size * (size_t)t.size;
    if (*nbytes && !data)
        return fail(err, errlen, "cannot write '%s': no data", path);
    return 0;
}

//! Writes head then data to f, flushes it (and with sync, to the disk), closes f.
static int write_stream(FILE *f, const char *path, const void *head, size_t nhead, const void *data,
                        size_t ndata, bool sync, char *err, size_t errlen)
{
    bool ok = (nhead == 0 || fwrite(head, 1, nhead, f) == nhead) && (ndata == 0 || fwrite(data, 1, ndata, f) == ndata)
              && fflush(f) == 0 && (!sync || fsync(fileno(f)) == 0);
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    return ok ? 0 : fail(err, errlen, "cannot write '%s': %s", path, strerror(e));
}

int snn_npy_write(const char *path, const char *descr, int ndim, const size_t *shape, const void *data,
                  char *err, size_t errlen)
{
    unsigned char h[SNN_NPY_HEAD];
    size_t nh, nbytes;
    if (npy_head(path, descr, ndim, shape, data, h, &nh, &nbytes, err, errlen))
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return fail(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    return write_stream(f, path, h, nh, data, nbytes, false, err, errlen);
}

/* --- reading: a tiny parser for the header dict ------------------------- */

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static bool eat(const char **p, const char *word)
{
    skip_ws(p);
    size_t n = strlen(word);
    if (strncmp(*p, word, n))
        return false;
    *p += n;
    return true;
}

//! A quoted Python string without escapes, copied into out.
static bool eat_string(const char **p, char *out, size_t outlen)
{
    skip_ws(p);
    char q = **p;
    const char *end = (q == '\'' || q == '"') ? strchr(*p + 1, q) : NULL;
    if (!end || (size_t)(end - *p - 1) >= outlen)
        return false;
    memcpy(out, *p + 1, (size_t)(end - *p - 1));
    out[end - *p - 1] = '\0';
    *p = end + 1;
    return true;
}

typedef struct { char descr[32]; bool fortran; int ndim; size_t shape[8]; } npy_header;

//! Parses "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }".
//! NULL if fine, else what is wrong.
static const char *npy_header_parse(const char *p, npy_header *h)
{
    int seen = 0;
    if (!eat(&p, "{"))
        return "header is not a dict";
    while (!eat(&p, "}")) {
        char key[32];
        if (!eat_string(&p, key, sizeof key) || !eat(&p, ":"))
            return "malformed header";
        if (!strcmp(key, "descr")) {
            skip_ws(&p);
            if (*p == '[')
                return "structured dtypes (record arrays) are not supported";
            if (!eat_string(&p, h->descr, sizeof h->descr))
                return "malformed 'descr' in header";
            seen |= 1;
        } else if (!strcmp(key, "fortran_order")) {
            if (eat(&p, "True"))
                h->fortran = true;
            else if (eat(&p, "False"))
                h->fortran = false;
            else
                return "malformed 'fortran_order' in header";
            seen |= 2;
        } else if (!strcmp(key, "shape")) {
            if (!eat(&p, "("))
                return "malformed 'shape' in header";
            for (h->ndim = 0; !eat(&p, ")");) {
                skip_ws(&p);
                if (!isdigit((unsigned char)*p))
                    return "malformed 'shape' in header";
                size_t v = 0;
                for (; isdigit((unsigned char)*p); p++) {
                    if (v > (SIZE_MAX - 9) / 10)
                        return "shape too large";
                    v = v * 10 + (size_t)(*p - '0');
                }
                if (*p == 'L')  // written by Python 2
                    p++;
                if (h->ndim == 8)
                    return "more than 8 dimensions";
                h->shape[h->ndim++] = v;
                if (!eat(&p, ",")) {
                    if (!eat(&p, ")"))
                        return "malformed 'shape' in header";
                    break;
                }
            }
            seen |= 4;
        } else {
            return "header keys must be 'descr', 'fortran_order' and 'shape'";
        }
        if (!eat(&p, ",")) {
            if (!eat(&p, "}"))
                return "malformed header";
            break;
        }
    }
    return seen == 7 ? NULL : "header lacks 'descr', 'fortran_order' or 'shape'";
}

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static bool read_at(FILE *f, uint64_t off, void *buf, size_t n)
{
    return fseeko(f, (off_t)off, SEEK_SET) == 0 && fread(buf, 1, n, f) == n;
}

//! Reorders a Fortran-order array into C order.
static void fortran_to_c(const double *in, double *out, int ndim, const size_t *shape, size_t size)
{
    size_t idx[8] = {0}, stride[8], off = 0;  // stride: Fortran strides in items
    for (int k = 0; k < ndim; k++)
        stride[k] = k ? stride[k - 1] * shape[k - 1] : 1;
    for (size_t j = 0; j < size; j++) {
        out[j] = in[off];
        for (int k = ndim - 1; k >= 0; k--) {  // next C-order index: last axis fastest
            off += stride[k];
            if (++idx[k] < shape[k])
                break;
            off -= idx[k] * stride[k];
            idx[k] = 0;
        }
    }
}

//! Reads one .npy image of at most `avail` bytes from the current position of f.
static int npy_read_stream(FILE *f, uint64_t avail, const char *what, snn_array *out, char *err, size_t errlen)
{
    unsigned char pre[12];
    if (avail < 10 || fread(pre, 1, 10, f) != 10)
        return fail(err, errlen, "%s: not a .npy file (too short)", what);
    if (!memcmp(pre, "PK\3\4", 4))
        return fail(err, errlen, "%s: is a zip archive (.npz); name one array as 'FILE.npz:KEY'", what);
    if (memcmp(pre, "\x93NUMPY", 6))
        return fail(err, errlen, "%s: not a .npy file (bad magic)", what);
    uint64_t hlen, pos = 10;
    if (pre[6] == 1) {
        hlen = le16(pre + 8);
    } else if ((pre[6] == 2 || pre[6] == 3) && avail >= 12 && fread(pre + 10, 1, 2, f) == 2) {
        hlen = le32(pre + 8);
        pos = 12;
    } else {
        return fail(err, errlen, "%s: unsupported .npy format version %d.%d", what, pre[6], pre[7]);
    }
    if (hlen > avail - pos || hlen > (1u << 20))
        return fail(err, errlen, "%s: truncated or corrupt .npy header", what);
    char *text = malloc(hlen + 1);
    if (!text)
        return fail(err, errlen, "%s: out of memory", what);
    npy_header h = {.ndim = 0};
    const char *why = fread(text, 1, hlen, f) == hlen ? NULL : "truncated .npy header";
    text[hlen] = '\0';
    if (!why)
        why = npy_header_parse(text, &h);
    free(text);
    if (why)
        return fail(err, errlen, "%s: %s", what, why);
    pos += hlen;

    npy_type t;
    if ((why = npy_type_parse(h.descr, &t)))
        return fail(err, errlen, "%s: dtype '%s' is not supported (%s); use bool, integer or float arrays",
                    what, h.descr, why);
    size_t size = 1;
    for (int k = 0; k < h.ndim; k++) {
        if (h.shape[k] && size > SIZE_MAX / sizeof(double) / h.shape[k])
            return fail(err, errlen, "%s: array too large", what);
        size *= h.shape[k];
    }
    if (size > (avail - pos) / (uint64_t)t.size)
        return fail(err, errlen, "%s: truncated (shape needs %zu bytes of data, %llu present)", what,
                    size * (size_t)t.size, (unsigned long long)(avail - pos));

    double *data = malloc(size ? size * sizeof(double) : 1);
    if (!data)
        return fail(err, errlen, "%s: out of memory for %zu values", what, size);
    unsigned char chunk[8192];
    size_t per = sizeof chunk / (size_t)t.size;
    for (size_t done = 0; done < size;) {
        size_t n = size - done < per ? size - done : per;
        if (fread(chunk, (size_t)t.size, n, f) != n) {
            free(data);
            return fail(err, errlen, "%s: read error (%s)", what, strerror(errno));
        }
        for (size_t i = 0; i < n; i++)
            data[done + i] = npy_decode(chunk + i * (size_t)t.size, &t);
        done += n;
    }
    if (h.fortran && h.ndim > 1) {
        double *c = malloc(size ? size * sizeof(double) : 1);
        if (!c) {
            free(data);
            return fail(err, errlen, "%s: out of memory", what);
        }
        fortran_to_c(data, c, h.ndim, h.shape, size);
        free(data);
        data = c;
    }
    out->data = data;
    out->ndim = h.ndim;
    memcpy(out->shape, h.shape, sizeof h.shape);
    out->size = size;
    return 0;
}

/* --- .npz: the ZIP central directory -------------------------------------- */

//! Applies a zip64 extended-information extra field: each saturated 32-bit
//! value is replaced by the next 64-bit one, in this order.
static void zip64_extra(const unsigned char *x, size_t xlen, uint64_t *usize, uint64_t *csize, uint64_t *off)
{
    while (xlen >= 4) {
        size_t id = le16(x), sz = le16(x + 2);
        if (sz > xlen - 4)
            return;
        if (id == 1) {
            const unsigned char *v = x + 4, *end = v + sz;
            uint64_t *fields[3] = {usize, csize, off};
            for (int k = 0; k < 3; k++)
                if (*fields[k] == 0xFFFFFFFFu && v + 8 <= end) {
                    *fields[k] = le64(v);
                    v += 8;
                }
            return;
        }
        x += 4 + sz;
        xlen -= 4 + sz;
    }
}

typedef struct { uint64_t count, cd_size, cd_off; } zip_dir;

//! Finds the central directory through the end record (zip64 if needed).
static bool zip_directory(FILE *f, uint64_t fsize, zip_dir *d)
{
    size_t n = fsize < 22 + 65535 ? (size_t)fsize : 22 + 65535;  // end record + longest comment
    unsigned char *tail = malloc(n ? n : 1);
    bool ok = tail && n >= 22 && read_at(f, fsize - n, tail, n);
    size_t i = n - 22;
    while (ok && memcmp(tail + i, "PK\5\6", 4))
        ok = i-- > 0;
    if (ok) {
        *d = (zip_dir){le16(tail + i + 10), le32(tail + i + 12), le32(tail + i + 16)};
        if (d->count == 0xFFFF || d->cd_size == 0xFFFFFFFFu || d->cd_off == 0xFFFFFFFFu) {
            unsigned char loc[20], rec[56];
            uint64_t end_at = fsize - n + i;
            ok = end_at >= 20 && read_at(f, end_at - 20, loc, 20) && !memcmp(loc, "PK\6\7", 4)
                 && read_at(f, le64(loc + 8), rec, 56) && !memcmp(rec, "PK\6\6", 4);
            if (ok)
                *d = (zip_dir){le64(rec + 32), le64(rec + 40), le64(rec + 48)};
        }
    }
    free(tail);
    return ok && d->cd_off <= fsize && d->cd_size <= fsize - d->cd_off;
}

//! Positions f at the data of entry key + ".npy" of an np.savez archive and
//! sets *len; key NULL picks the archive's only entry.
static int zip_find(FILE *f, uint64_t fsize, const char *zipname, const char *key, const char *what,
                    uint64_t *len, char *err, size_t errlen)
{
    zip_dir d;
    if (!zip_directory(f, fsize, &d))
        return fail(err, errlen, "%s: not a zip archive (.npz) or corrupt", what);
    unsigned char *cd = malloc(d.cd_size ? (size_t)d.cd_size : 1);
    if (!cd || !read_at(f, d.cd_off, cd, (size_t)d.cd_size)) {
        free(cd);
        return fail(err, errlen, "%s: cannot read the zip directory", what);
    }
    snn_sb keys;  // for the error message
    snn_sb_init(&keys);
    bool found = false, corrupt = false;
    unsigned flags = 0, method = 0;
    uint64_t csize = 0, off = 0;
    size_t p = 0, klen = key ? strlen(key) : 0;
    for (uint64_t i = 0; i < d.count; i++) {
        const unsigned char *c = cd + p;
        if (p + 46 > d.cd_size || memcmp(c, "PK\1\2", 4)) {
            corrupt = true;
            break;
        }
        size_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32);
        if (46 + nlen + xlen + clen > d.cd_size - p) {
            corrupt = true;
            break;
        }
        const char *name = (const char *)c + 46;
        uint64_t u = le32(c + 24), s = le32(c + 20), o = le32(c + 42);
        zip64_extra(c + 46 + nlen, xlen, &u, &s, &o);
        bool npy = nlen >= 4 && !memcmp(name + nlen - 4, ".npy", 4);
        int shown = (int)(npy ? nlen - 4 : nlen);
        snn_sb_printf(&keys, "%s%.*s", i ? ", " : "", shown, name);
        bool match = key ? ((size_t)shown == klen || nlen == klen) && !memcmp(name, key, klen) : d.count == 1;
        if (match && !found) {
            found = true;
            flags = le16(c + 8);
            method = le16(c + 10);
            csize = s;
            off = o;
        }
        p += 46 + nlen + xlen + clen;
    }
    free(cd);
    int rc = -1;
    if (corrupt)
        fail(err, errlen, "%s: corrupt zip directory", what);
    else if (!found && key)
        fail(err, errlen, "key '%s' not in '%s' (has: %s)", key, zipname, snn_sb_cstr(&keys));
    else if (!found)
        fail(err, errlen, "%s: holds %llu arrays, name one as '%s:KEY' (has: %s)", what,
             (unsigned long long)d.count, zipname, snn_sb_cstr(&keys));
    else if (method == 8)
        fail(err, errlen, "%s: is compressed (np.savez_compressed); save it with np.savez or as .npy", what);
    else if (method != 0)
        fail(err, errlen, "%s: uses unsupported zip compression method %u", what, method);
    else if (flags & 1)
        fail(err, errlen, "%s: is encrypted", what);
    else
        rc = 0;
    snn_sb_free(&keys);
    if (rc)
        return rc;
    unsigned char lh[30];  // local header: its name and extra lengths may differ from the directory's
    if (!read_at(f, off, lh, 30) || memcmp(lh, "PK\3\4", 4))
        return fail(err, errlen, "%s: corrupt zip entry", what);
    uint64_t start = off + 30 + le16(lh + 26) + le16(lh + 28);
    if (start > fsize || csize > fsize - start || fseeko(f, (off_t)start, SEEK_SET))
        return fail(err, errlen, "%s: truncated zip entry", what);
    *len = csize;
    return 0;
}

//! Opens `path` for reading only if it is a regular file: a FIFO or a device
//! would block or never end (O_NONBLOCK keeps the open itself from blocking).
//! NULL with errno EINVAL for anything else.
static FILE *open_regular(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f)
        close(fd);
    return f;
}

FILE *snn_open_regular(const char *path)
{
    struct stat st;
    return open_regular(path, &st);
}

//! "d.npy:key" names no file, but d.npy exists: a .npy file holds one array
//! and has no keys. Says so and returns true; false if that is not the case.
static bool npy_with_key(const char *spec, const char *what, char *err, size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec)
        return false;
    size_t plen = (size_t)(colon - spec);
    char *path = malloc(plen + 1);
    if (!path)
        return false;
    memcpy(path, spec, plen);
    path[plen] = '\0';
    struct stat st;
    bool found = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    if (found)
        fail(err, errlen, "%s: '%s' is a .npy file, which holds one array and has no keys; name it without "
             "':%s' (keys are for .npz archives)", what, path, colon + 1);
    free(path);
    return found;
}

int snn_npy_read(const char *spec, snn_array *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char what[512];
    snprintf(what, sizeof what, "data file '%s'", spec);
    // "dir/a.npz:key" -> path "dir/a.npz", key "key"; the last ".npz:" splits.
    const char *colon = NULL;
    for (const char *q = strstr(spec, ".npz:"); q; q = strstr(q + 1, ".npz:"))
        colon = q + 4;
    size_t plen = colon ? (size_t)(colon - spec) : strlen(spec);
    bool npz = colon || (plen >= 4 && !strcmp(spec + plen - 4, ".npz"));
    char *path = malloc(plen + 1);
    if (!path)
        return fail(err, errlen, "%s: out of memory", what);
    memcpy(path, spec, plen);
    path[plen] = '\0';

    int rc = -1;
    struct stat st;
    FILE *f = open_regular(path, &st);
    if (!f && errno == ENOENT && npy_with_key(spec, what, err, errlen))
        ;  // "a.npy:key": said why
    else if (!f)
        fail(err, errlen, "%s: %s", what, errno == ENOENT ? "no such file" : errno == EINVAL ? "not a regular file"
                                          : strerror(errno));
    else {
        uint64_t len = (uint64_t)st.st_size;
        if (!npz || zip_find(f, len, path, colon ? colon + 1 : NULL, what, &len, err, errlen) == 0)
            rc = npy_read_stream(f, len, what, out, err, errlen);
    }
    if (f)
        fclose(f);
    free(path);
    return rc;
}

void snn_array_free(snn_array *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ========================================================== results directory */

int snn_mkdirs(const char *path, char *err, size_t errlen)
{
    if (!path || !*path)
        return fail(err, errlen, "empty directory name");
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p)
        return fail(err, errlen, "out of memory");
    memcpy(p, path, n + 1);
    int rc = 0;
    for (char *q = p + 1; rc == 0; q++) {  // mkdir each prefix that ends before a '/'
        if (*q != '/' && *q != '\0')
            continue;
        char c = *q;
        *q = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0) {
            if (errno != EEXIST)
                rc = fail(err, errlen, "cannot create directory '%s': %s", p, strerror(errno));
            else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
                rc = fail(err, errlen, "cannot create directory '%s': '%s' exists and is not a directory",
                          path, p);
        }
        *q = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

/* A results folder holds what snndsl wrote there and what the user added
 * afterwards (a plot, notes). Its mark, RESULTS_MARK, says so and names the
 * files the last write made; a folder that is absent, empty or marked is
 * written, any other is refused untouched. Every file is first written as a
 * new temporary (O_CREAT|O_EXCL|O_NOFOLLOW) inside the folder, synced, then
 * renamed over its name: a symlink in the folder is replaced, never
 * followed. The folder is opened once and every name is resolved relative
 * to it; a results path that is itself a symlink to a folder is that folder,
 * under the same rule. */

#define RESULTS_MARK ".snndsl-results"
#define RESULTS_FORMAT "snndsl-results/1"
#define TMP_PREFIX ".snndsl-tmp-"

static bool plain_name(const char *s)
{
    return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && strcmp(s, "manifest.json")
           && strcmp(s, "manifest.json.tmp") && strncmp(s, ".snndsl", 7) != 0;
}

typedef struct { char **s; size_t n, cap; } name_list;

static int names_add(name_list *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->s, cap * sizeof *p);
        if (!p)
            return -1;
        l->s = p;
        l->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    l->s[l->n++] = c;
    return 0;
}

static bool names_has(const name_list *l, const char *s)
{
    for (size_t k = 0; k < l->n; k++)
        if (strcmp(l->s[k], s) == 0)
            return true;
    return false;
}

static void names_free(name_list *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->s[k]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

//! The entries of the folder open as dfd, but "." and "..".
static int list_folder(int dfd, name_list *out)
{
    int fd = dup(dfd);  // fdopendir takes the descriptor over
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            rc = names_add(out, e->d_name, strlen(e->d_name));
    closedir(d);
    return rc;
}

//! The text of the regular file `name` in dfd, at most max bytes; NULL if it
//! is absent, a symlink or not a regular file (O_NONBLOCK: a FIFO never blocks).
static char *read_small(int dfd, const char *name, size_t max)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *s = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        size_t n = (size_t)st.st_size < max ? (size_t)st.st_size : max;
        s = malloc(n + 1);
        ssize_t got = s ? read(fd, s, n) : -1;
        if (got < 0) {
            free(s);
            s = NULL;
        } else {
            s[got] = '\0';
        }
    }
    close(fd);
    return s;
}

//! Whether a manifest's text says `"format": "snndsl-results/1"`.
static bool results_manifest(const char *text)
{
    const char *p = text ? strstr(text, "\"format\"") : NULL;
    if (!p)
        return false;
    p += 8;
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != ':')
        return false;
    while (isspace((unsigned char)*p))
        p++;
    return strncmp(p, "\"" RESULTS_FORMAT "\"", strlen(RESULTS_FORMAT) + 2) == 0;
}

//! Whether dfd is a folder snndsl wrote: its mark, or (a folder written
//! before marks) a manifest of the results format. `old` gets the files
//! the mark names.
static bool results_owned(int dfd, name_list *old)
{
    char *mark = read_small(dfd, RESULTS_MARK, (size_t)1 << 24);
    size_t flen = strlen(RESULTS_FORMAT);
    if (mark && strncmp(mark, RESULTS_FORMAT, flen) == 0 && (mark[flen] == '\n' || mark[flen] == '\0')) {
        for (char *p = mark + flen; *p;) {
            p += *p == '\n';
            size_t len = strcspn(p, "\n");
            char c = p[len];
            p[len] = '\0';
            if (plain_name(p) && !names_has(old, p))
                names_add(old, p, len);  // out of memory: that stale file stays, no harm
            p[len] = c;
            p += len;
        }
        free(mark);
        return true;
    }
    free(mark);
    char *man = read_small(dfd, "manifest.json", 4096);
    bool ours = results_manifest(man);
    free(man);
    return ours;
}

static bool same_folder(const struct stat *st, const char *path)
{
    struct stat o;
    return path && *path && stat(path, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

//! "a, b, c and 4 more": the sorted names, at most five.
static void name_summary(name_list *names, char *buf, size_t len)
{
    qsort(names->s, names->n, sizeof *names->s, cmp_names);
    size_t at = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < names->n && k < 5 && at < len; k++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", k ? ", " : "", names->s[k]);
    if (names->n > 5 && at < len)
        snprintf(buf + at, len - at, " and %zu more", names->n - 5);
}

static void host_name(char *buf, size_t len)
{
    if (gethostname(buf, len - 1) != 0)
        buf[0] = '\0';
    buf[len - 1] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '/')
            *p = '_';
}

//! A new file in dfd that nothing else refers to: O_EXCL never opens an
//! existing file, O_NOFOLLOW never a symlink's target. Its name, in `name`,
//! is TMP_PREFIX PID-K-HOST.
static FILE *create_temp(int dfd, char *name, size_t len)
{
    char host[64];
    host_name(host, sizeof host);
    for (unsigned k = 0; k < 1000; k++) {
        snprintf(name, len, TMP_PREFIX "%ld-%u-%s", (long)getpid(), k, host);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "wb");
            if (!f) {
                int e = errno;
                close(fd);
                unlinkat(dfd, name, 0);
                errno = e;
            }
            return f;
        }
        if (errno != EEXIST)
            return NULL;
    }
    return NULL;
}

//! Writes head and data as `name` in dfd: a synced temporary renamed over it.
static int write_at(int dfd, const char *name, const void *head, size_t nhead, const void *data, size_t ndata,
                    char *err, size_t errlen)
{
    char tmp[128];
    FILE *f = create_temp(dfd, tmp, sizeof tmp);
    if (!f)
        return fail(err, errlen, "cannot create '%s': %s", name, strerror(errno));
    if (write_stream(f, name, head, nhead, data, ndata, true, err, errlen)) {
        unlinkat(dfd, tmp, 0);
        return -1;
    }
    if (renameat(dfd, tmp, dfd, name) != 0) {
        int e = errno;
        unlinkat(dfd, tmp, 0);
        return fail(err, errlen, "cannot write '%s': %s", name, strerror(e));
    }
    return 0;
}

//! Removes the temporaries of writers on this machine that died mid-write.
static void remove_stale_temps(int dfd, const name_list *present)
{
    char host[64];
    host_name(host, sizeof host);
    size_t np = strlen(TMP_PREFIX);
    for (size_t k = 0; k < present->n; k++) {
        const char *s = present->s[k];
        if (strncmp(s, TMP_PREFIX, np) != 0)
            continue;
        char *end;
        long pid = strtol(s + np, &end, 10);
        const char *h = end != s + np && *end == '-' ? strchr(end + 1, '-') : NULL;
        if (h && pid > 0 && strcmp(h + 1, host) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dfd, s, 0);
    }
}

//! The mark's text: the format, then one line per file name.
static int write_mark(int dfd, const name_list *a, const name_list *b, char *err, size_t errlen)
{
    snn_sb sb;
    snn_sb_init(&sb);
    snn_sb_printf(&sb, "%s\n", RESULTS_FORMAT);
    for (size_t k = 0; a && k < a->n; k++)
        snn_sb_printf(&sb, "%s\n", a->s[k]);
    for (size_t k = 0; b && k < b->n; k++)
        if (!a || !names_has(a, b->s[k]))
            snn_sb_printf(&sb, "%s\n", b->s[k]);
    int rc = sb.failed ? fail(err, errlen, "out of memory")
                       : write_at(dfd, RESULTS_MARK, sb.s, sb.len, NULL, 0, err, errlen);
    snn_sb_free(&sb);
    return rc;
}

//! Checks that `dir` (open as dfd) may be written; gives the entries it
//! holds and the files the last write made.
static int claim_folder(int dfd, name_list *present, name_list *old, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(dfd, &st) != 0)
        return fail(err, errlen, "%s", strerror(errno));
    if (same_folder(&st, "/"))
        return fail(err, errlen, "it is the root folder; choose an empty or new folder");
    if (same_folder(&st, getenv("HOME")))
        return fail(err, errlen, "it is the home folder; choose an empty or new folder");
    if (list_folder(dfd, present))
        return fail(err, errlen, "cannot list it: %s", strerror(errno));
    if (present->n == 0 || results_owned(dfd, old))
        return 0;
    char list[512];
    name_summary(present, list, sizeof list);
    return fail(err, errlen, "it holds files snndsl did not write (%s); choose an empty or new folder", list);
}

int snn_results_write(const char *dir, const char *manifest_json, const snn_out_array *arrays, size_t n,
                      char *err, size_t errlen)
{
    if (!dir || !manifest_json)
        return fail(err, errlen, "results: no directory or no manifest given");
    if (snn_mkdirs(dir, err, errlen))
        return -1;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail(err, errlen, "%s", strerror(errno));
    name_list present = {0}, old = {0}, now = {0};
    int rc = claim_folder(dfd, &present, &old, err, errlen);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (plain_name(arrays[i].file) && names_add(&now, arrays[i].file, strlen(arrays[i].file)))
            rc = fail(err, errlen, "out of memory");
    if (rc == 0) {
        remove_stale_temps(dfd, &present);
        // the mark names old and new files until the new manifest is in place,
        // so that a crash in between leaves nothing the next write forgets
        rc = write_mark(dfd, &old, &now, err, errlen);
    }
    if (rc == 0 && unlinkat(dfd, "manifest.json", 0) != 0 && errno != ENOENT)  // from now on no manifest can lie
        rc = fail(err, errlen, "cannot remove the old manifest.json: %s", strerror(errno));
    for (size_t i = 0; i < n && rc == 0; i++) {
        const snn_out_array *a = &arrays[i];
        if (!plain_name(a->file) || a->ndim < 0 || a->ndim > 2) {
            rc = fail(err, errlen, "results: bad array '%s' (need a plain file name and 0 to 2 dimensions)",
                      a->file ? a->file : "(null)");
            break;
        }
        if (a->descr && strcmp(a->descr, "raw") == 0) {  // bytes as they are (a snapshot)
            rc = write_at(dfd, a->file, NULL, 0, a->data, a->ndim ? a->shape[0] : 0, err, errlen);
        } else {
            unsigned char h[SNN_NPY_HEAD];
            size_t nh, nbytes;
            rc = npy_head(a->file, a->descr, a->ndim, a->shape, a->data, h, &nh, &nbytes, err, errlen);
            if (rc == 0)
                rc = write_at(dfd, a->file, h, nh, a->data, nbytes, err, errlen);
        }
    }
    if (rc == 0)
        rc = write_at(dfd, "manifest.json", manifest_json, strlen(manifest_json), NULL, 0, err, errlen);
    if (rc == 0 && write_mark(dfd, &now, NULL, err, errlen) == 0)
        for (size_t k = 0; k < old.n; k++)  // the old arrays the new manifest does not name
            if (!names_has(&now, old.s[k]))
                unlinkat(dfd, old.s[k], 0);
    if (rc == 0)
        fsync(dfd);  // make the renames durable; best effort
    close(dfd);
    names_free(&present);
    names_free(&old);
    names_free(&now);
    return rc;
}

/* ================================================================= quantities */

typedef struct { double scale; int dim[7]; } unit_val;

//! Units accepted on the command line: name, SI scale, and dimension as
//! exponents of (metre, kilogram, second, amp, kelvin, mole, candela).
static const struct { const char *name; double scale; signed char dim[7]; } units[] = {
#define TIME     {0, 0, 1, 0, 0, 0, 0}
#define FREQ     {0, 0, -1, 0, 0, 0, 0}
#define VOLT     {2, 1, -3, -1, 0, 0, 0}
#define AMP      {0, 0, 0, 1, 0, 0, 0}
#define SIEMENS  {-2, -1, 3, 2, 0, 0, 0}
#define OHM      {2, 1, -3, -2, 0, 0, 0}
#define FARAD    {-2, -1, 4, 2, 0, 0, 0}
#define METRE    {1, 0, 0, 0, 0, 0, 0}
#define MOLAR    {-3, 0, 0, 0, 0, 1, 0}
    {"second", 1, TIME}, {"s", 1, TIME}, {"ms", 1e-3, TIME}, {"us", 1e-6, TIME}, {"ns", 1e-9, TIME},
    {"Hz", 1, FREQ}, {"kHz", 1e3, FREQ},
    {"volt", 1, VOLT}, {"V", 1, VOLT}, {"mV", 1e-3, VOLT}, {"uV", 1e-6, VOLT},
    {"amp", 1, AMP}, {"A", 1, AMP}, {"mA", 1e-3, AMP}, {"uA", 1e-6, AMP}, {"nA", 1e-9, AMP},
    {"pA", 1e-12, AMP},
    {"siemens", 1, SIEMENS}, {"mS", 1e-3, SIEMENS}, {"uS", 1e-6, SIEMENS}, {"nS", 1e-9, SIEMENS},
    {"pS", 1e-12, SIEMENS},
    {"ohm", 1, OHM}, {"kohm", 1e3, OHM}, {"Mohm", 1e6, OHM}, {"Gohm", 1e9, OHM},
    {"farad", 1, FARAD}, {"F", 1, FARAD}, {"uF", 1e-6, FARAD}, {"nF", 1e-9, FARAD}, {"pF", 1e-12, FARAD},
    {"metre", 1, METRE}, {"meter", 1, METRE}, {"m", 1, METRE}, {"cm", 1e-2, METRE}, {"mm", 1e-3, METRE},
    {"um", 1e-6, METRE},
    {"molar", 1e3, MOLAR}, {"mM", 1, MOLAR}, {"uM", 1e-3, MOLAR},
    {"kelvin", 1, {0, 0, 0, 0, 1, 0, 0}}, {"K", 1, {0, 0, 0, 0, 1, 0, 0}},
    {"kilogram", 1, {0, 1, 0, 0, 0, 0, 0}}, {"kg", 1, {0, 1, 0, 0, 0, 0, 0}}, {"g", 1e-3, {0, 1, 0, 0, 0, 0, 0}},
    {"mole", 1, {0, 0, 0, 0, 0, 1, 0}}, {"mol", 1, {0, 0, 0, 0, 0, 1, 0}},
    {"candela", 1, {0, 0, 0, 0, 0, 0, 1}}, {"cd", 1, {0, 0, 0, 0, 0, 0, 1}},
#undef TIME
#undef FREQ
#undef VOLT
#undef AMP
#undef SIEMENS
#undef OHM
#undef FARAD
#undef METRE
#undef MOLAR
};

//! `frac`: powers may be small fractions; dimensions count in 1/SNN_DIM_DEN throughout.
typedef struct { const char *p; char why[96]; bool frac; } qparser;

static bool unit_expr(qparser *q, unit_val *out, bool have_first);

//! A whole power after '**': [+-]digits, at most 99 in size.
static bool read_whole_power(const char **p, long *num)
{
    char *end;
    long e = strtol(*p, &end, 10);
    if (end == *p || e < -99 || e > 99)
        return false;
    *p = end;
    *num = e;
    return true;
}

static long gcd_long(long a, long b)
{
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

//! A power after '**' as num/den (den 1 to 12): 2, -3, 0.5, -1.5, 0.25, or
//! "(1/3)", "(-2/3)"; at most 99 in size.
static bool read_power(const char **p, long *num, long *den)
{
    const char *s = *p;
    if (*s == '(') {
        s++;
        skip_ws(&s);
        char *end;
        long a = strtol(s, &end, 10);
        if (end == s)
            return false;
        s = end;
        skip_ws(&s);
        if (*s++ != '/')
            return false;
        skip_ws(&s);
        long b = strtol(s, &end, 10);
        if (end == s || b <= 0)
            return false;
        s = end;
        skip_ws(&s);
        if (*s++ != ')')
            return false;
        *num = a;
        *den = b;
    } else {
        int sign = *s == '-' ? -1 : 1;
        if (*s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        long whole = 0, frac = 0, scale = 1;
        for (; isdigit((unsigned char)*s); s++)
            if ((whole = whole * 10 + (*s - '0')) > 99)
                return false;
        if (*s == '.' && isdigit((unsigned char)s[1])) {
            for (s++; isdigit((unsigned char)*s); s++) {
                if (scale >= 1000000)
                    return false;
                frac = frac * 10 + (*s - '0');
                scale *= 10;
            }
        }
        *num = sign * (whole * scale + frac);
        *den = scale;
    }
    long g = gcd_long(*num, *den);
    *num /= g;
    *den /= g;
    if (*den > 12 || *num / *den > 99 || *num / *den < -99)
        return false;
    *p = s;
    return true;
}

//! factor := NAME | "1" | "(" expr ")", then optionally "**" INT.
static bool unit_factor(qparser *q, unit_val *out)
{
    skip_ws(&q->p);
    const char *s = q->p;
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
        n++;
    *out = (unit_val){1, {0}};
    if (*s == '(') {
        q->p++;
        if (!unit_expr(q, out, false))
            return false;
        if (!eat(&q->p, ")")) {
            snprintf(q->why, sizeof q->why, "missing ')'");
            return false;
        }
    } else if (n == 1 && *s == '1') {
        q->p++;
    } else if (n > 0 && isalpha((unsigned char)*s)) {
        size_t i = 0, nu = sizeof units / sizeof units[0];
        while (i < nu && (strlen(units[i].name) != n || strncmp(units[i].name, s, n)))
            i++;
        if (i == nu) {
            snprintf(q->why, sizeof q->why, "unknown unit '%.*s'", (int)(n < 40 ? n : 40), s);
            return false;
        }
        out->scale = units[i].scale;
        for (int k = 0; k < 7; k++)
            out->dim[k] = units[i].dim[k] * SNN_DIM_DEN;
        q->p += n;
    } else {
        if (*s)
            snprintf(q->why, sizeof q->why, "expected a unit at '%.20s'", s);
        else
            snprintf(q->why, sizeof q->why, "expected a unit at the end");
        return false;
    }
    if (eat(&q->p, "**")) {
        skip_ws(&q->p);
        long num, den = 1;
        if (!(q->frac ? read_power(&q->p, &num, &den) : read_whole_power(&q->p, &num))) {
            snprintf(q->why, sizeof q->why, q->frac ? "expected a whole power or a small fraction (such as 0.5 or "
                                                      "(1/3)) after '**'" : "expected a small integer power after '**'");
            return false;
        }
        for (int k = 0; k < 7; k++) {
            if ((long)out->dim[k] * num % den != 0) {
                snprintf(q->why, sizeof q->why, "a power finer than twelfths");
                return false;
            }
        }
        out->scale = den == 1 ? pow(out->scale, (double)num) : pow(out->scale, (double)num / (double)den);
        for (int k = 0; k < 7; k++)
            out->dim[k] = (int)((long)out->dim[k] * num / den);
    }
    return true;
}

//! expr := factor (("*" | "/") factor)*; with have_first, `out` already
//! holds the first factor.
static bool unit_expr(qparser *q, unit_val *out, bool have_first)
{
    if (!have_first && !unit_factor(q, out))
        return false;
    for (;;) {
        skip_ws(&q->p);
        int sign = q->p[0] == '/' ? -1 : q->p[0] == '*' && q->p[1] != '*' ? 1 : 0;
        if (!sign)
            return true;
        q->p++;
        unit_val f;
        if (!unit_factor(q, &f))
            return false;
        out->scale = sign > 0 ? out->scale * f.scale : out->scale / f.scale;
        for (int k = 0; k < 7; k++)
            out->dim[k] += sign * f.dim[k];
    }
}

//! Length of the decimal number at s ([+-]digits[.digits][e[+-]digits]), 0 if none.
static size_t number_length(const char *s)
{
    size_t i = (*s == '+' || *s == '-'), digits = 0;
    for (; isdigit((unsigned char)s[i]); i++)
        digits++;
    if (s[i] == '.')
        for (i++; isdigit((unsigned char)s[i]); i++)
            digits++;
    if (!digits)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1 + (s[i + 1] == '+' || s[i + 1] == '-');
        if (isdigit((unsigned char)s[j])) {
            while (isdigit((unsigned char)s[j]))
                j++;
            i = j;
        }
    }
    return i;
}

//! Whether the decimal number s (as number_length reads it) has a nonzero digit.
static bool nonzero_mantissa(const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i] != 'e' && s[i] != 'E'; i++)
        if (s[i] >= '1' && s[i] <= '9')
            return true;
    return false;
}

//! Whether s starts with the lowercase `word`, in any case.
static bool starts_ci(const char *s, const char *word)
{
    for (; *word; s++, word++)
        if (tolower((unsigned char)*s) != *word)
            return false;
    return true;
}

//! The number, then an optional unit. The value in SI units must be a finite,
//! normal number, or zero written as zero: "1e400 mV" overflows to infinity,
//! "1e-400 mV" (and "1e-307 mV", a subnormal volt) underflows to zero, "nan" and
//! "inf" are not numbers a model can use.
static int parse_quantity(const char *text, double *value, int dim[7], char *err, size_t errlen, bool frac)
{
    qparser q = {text, "", frac};
    unit_val u = {1, {0}};
    skip_ws(&q.p);
    size_t n = number_length(q.p);
    char num[64];
    double x = 0;
    bool nonzero = false;
    const char *word = q.p + (*q.p == '+' || *q.p == '-');
    if (n == 0 && starts_ci(word, "nan")) {
        snprintf(q.why, sizeof q.why, "nan is not a number");
    } else if (n == 0 && starts_ci(word, "inf")) {
        snprintf(q.why, sizeof q.why, "infinity is not a finite number");
    } else if (n == 0 || n >= sizeof num) {
        snprintf(q.why, sizeof q.why, n ? "number too long" : "expected a number");
    } else {
        memcpy(num, q.p, n);
        num[n] = '\0';
        x = strtod(num, NULL);
        nonzero = nonzero_mantissa(num, n);
        q.p += n;
        skip_ws(&q.p);
    }
    if (!q.why[0] && *q.p) {
        // "10*ms", "5/ms" and "20 Hz" all give number times unit
        bool per = *q.p == '/';
        if (!per)
            eat(&q.p, "*");
        bool ok = unit_expr(&q, &u, per);
        skip_ws(&q.p);
        if (ok && *q.p)
            snprintf(q.why, sizeof q.why, "unexpected '%.20s'", q.p);
    }
    if (q.why[0])
        return fail(err, errlen, "'%s' is not a number with a unit: %s", text, q.why);
    double si = x * u.scale;
    if (!isfinite(si))
        return fail(err, errlen, "'%s' overflows to infinity (the largest number is about 1.8e308%s)", text,
                    u.scale != 1 ? " in SI units" : "");
    if (nonzero && !isnormal(si))
        return fail(err, errlen, "'%s' underflows to zero (the smallest normal number is about 2.2e-308%s)",
                    text, u.scale != 1 ? " in SI units" : "");
    *value = si;
    memcpy(dim, u.dim, sizeof u.dim);
    return 0;
}

int snn_parse_quantity(const char *text, double *value, int dim[7], char *err, size_t errlen)
{
    int scaled[7];
    if (parse_quantity(text, value, scaled, err, errlen, false))
        return -1;
    for (int k = 0; k < 7; k++)
        dim[k] = scaled[k] / SNN_DIM_DEN;  // whole powers only: exact
    return 0;
}

int snn_parse_quantity_frac(const char *text, double *value, int dim[7], char *err, size_t errlen)
{
    return parse_quantity(text, value, dim, err, errlen, true);
}

//! A power as the language writes it after '**': 2, 0.5, 1.5, (1/3) (units.format_power).
static int format_power(char *buf, size_t len, long num, long den)
{
    long g = gcd_long(num, den), d;
    num /= g;
    den /= g;
    if (den == 1)
        return snprintf(buf, len, "%ld", num);
    for (d = den; d % 2 == 0; d /= 2) {}
    for (; d % 5 == 0; d /= 5) {}
    if (d == 1)
        return snprintf(buf, len, "%g", (double)num / (double)den);
    return snprintf(buf, len, "(%ld/%ld)", num, den);
}

void snn_dim_format_frac(const int dim[7], char *buf, size_t len)
{
    static const char *const base[7] = {"metre", "kilogram", "second", "amp", "kelvin", "mole", "candela"};
    static const struct { const char *name; signed char dim[7]; } named[] = {
        {"dimensionless", {0}},
        {"hertz", {0, 0, -1, 0, 0, 0, 0}},    {"volt", {2, 1, -3, -1, 0, 0, 0}},
        {"siemens", {-2, -1, 3, 2, 0, 0, 0}}, {"ohm", {2, 1, -3, -2, 0, 0, 0}},
        {"farad", {-2, -1, 4, 2, 0, 0, 0}},   {"coulomb", {0, 0, 1, 1, 0, 0, 0}},
    };
    if (!buf || !len)
        return;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        int k = 0;
        while (k < 7 && named[i].dim[k] * SNN_DIM_DEN == dim[k])
            k++;
        if (k == 7) {
            snprintf(buf, len, "%s", named[i].name);
            return;
        }
    }
    // numerator "a**2*b", then "/c" or "/(c*d**3)"
    size_t at = 0;
    int num = 0, den = 0;
    for (int k = 0; k < 7; k++)
        num += dim[k] > 0, den += dim[k] < 0;
    for (int sign = 1, n = 0; sign >= -1; sign -= 2, n = 0) {
        if (sign < 0 && den)
            at += (size_t)snprintf(buf + at, len - at, "%s%s", num ? "/" : "1/", den > 1 ? "(" : "");
        for (int k = 0; k < 7 && at < len; k++) {
            int e = sign * dim[k];
            if (e <= 0)
                continue;
            at += (size_t)snprintf(buf + at, len - at, "%s%s", n++ ? "*" : "", base[k]);
            if (e != SNN_DIM_DEN && at < len) {
                at += (size_t)snprintf(buf + at, len - at, "**");
                if (at < len)
                    at += (size_t)format_power(buf + at, len - at, e, SNN_DIM_DEN);
            }
        }
        if (sign < 0 && den > 1 && at < len)
            snprintf(buf + at, len - at, ")");
        if (at >= len)
            return;  // truncated, still NUL-terminated
    }
}

void snn_dim_format(const int dim[7], char *buf, size_t len)
{
    int scaled[7];
    for (int k = 0; k < 7; k++)
        scaled[k] = dim[k] * SNN_DIM_DEN;
    snn_dim_format_frac(scaled, buf, len);
}

/* =============================================================== command line */

static int parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

//! Adds "NAME=VALUE" to a list, splitting it in place.
static int add_kv(snn_kv *list, size_t *n, const char *opt, char *arg, char *err, size_t errlen)
{
    char *eq = strchr(arg, '=');
    const char *what = strcmp(opt, "--data") ? "VALUE" : "PATH";
    if (!eq || eq == arg || !eq[1])
        return fail(err, errlen, "%s expects NAME=%s, got '%s'", opt, what, arg);
    if (*n == 64)
        return fail(err, errlen, "too many %s options (at most 64)", opt);
    *eq = '\0';
    list[*n].name = arg;
    list[*n].value = eq + 1;
    (*n)++;
    return 0;
}

int snn_cli_parse(int argc, char **argv, snn_cli *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->out_dir = "results";
    out->threads = 1;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *val = strchr(a, '=');
        // "--opt=VALUE" means "--opt VALUE"; olen is the length of the option itself
        size_t olen = (a[0] == '-' && a[1] == '-' && val) ? (size_t)(val - a) : strlen(a);
        val = olen < strlen(a) ? val + 1 : NULL;
#define IS(name) (olen == strlen(name) && !strncmp(a, name, olen))
        bool flag = IS("-h") || IS("--help") || IS("-q") || IS("--quiet");
        bool takes = IS("-o") || IS("--output") || IS("--seed") || IS("--set") || IS("--data") || IS("--threads");
        if (!flag && !takes)
            return fail(err, errlen, a[0] == '-' ? "unknown option '%s' (try --help)" : "unexpected argument '%s'", a);
        if (flag && val)
            return fail(err, errlen, "option '%.*s' takes no value", (int)olen, a);
        if (takes && !val && (val = i + 1 < argc ? argv[++i] : NULL) == NULL)
            return fail(err, errlen, "option '%s' needs a value", a);
        if (IS("-h") || IS("--help")) {
            out->help = 1;
            return 0;
        } else if (IS("-q") || IS("--quiet")) {
            out->quiet = 1;
        } else if (IS("-o") || IS("--output")) {
            if (!*val)
                return fail(err, errlen, "option '%.*s' needs a non-empty directory", (int)olen, a);
            out->out_dir = val;
        } else if (IS("--seed")) {
            if (parse_u64(val, &out->seed))
                return fail(err, errlen, "--seed expects an integer from 0 to 2**64-1, got '%s'", val);
            out->has_seed = 1;
        } else if (IS("--threads")) {
            uint64_t n;
            if (parse_u64(val, &n) || n > SNN_MAX_THREADS)
                return fail(err, errlen, "--threads expects a number of threads from 1 to %d, or 0 for every core, "
                            "got '%s'", SNN_MAX_THREADS, val);
            out->threads = (int)n;
        } else if (IS("--set")) {
            if (add_kv(out->sets, &out->n_sets, "--set", val, err, errlen))
                return -1;
        } else if (add_kv(out->datas, &out->n_datas, "--data", val, err, errlen)) {
            return -1;
        }
#undef IS
    }
    return 0;
}

/* =================================================================== progress */

double snn_wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void snn_progress_start(snn_progress *p, int quiet)
{
    double now = snn_wall_time();
    p->last = now;
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->printed = 0;
    p->shown = 0;
    atomic_store(&p->start, now);
    atomic_store(&p->run_start, now);
    atomic_store(&p->what, (const char *)"");
    atomic_store(&p->t, 0.0);
    atomic_store(&p->t_from, 0.0);
    atomic_store(&p->t_to, 0.0);
    atomic_store(&p->done, 0.0);
}

//! Whether to print now: after 1 s, then every 0.5 s in a terminal, 10 s in a log.
static int snn_progress_due(snn_progress *p, double now)
{
    if (p->quiet || now - atomic_load(&p->start) <= 1.0)
        return 0;
    return !p->shown || now - p->last >= (p->tty ? 0.5 : 10.0);
}

static void snn_progress_print(snn_progress *p, const char *line, double now)
{
    if (p->tty) {
        int n = fprintf(stderr, "\r%s", line) - 1;
        if (n < p->printed)  // blank out the rest of a longer previous line
            fprintf(stderr, "%*s", p->printed - n, "");
        if (n > p->printed)
            p->printed = n;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
    p->last = now;
    p->shown = 1;
}

void snn_progress_update(snn_progress *p, const char *phase, double t, double t_from, double t_to)
{
    if (atomic_load(&p->t_from) != t_from || atomic_load(&p->t_to) != t_to) {  // a new run
        atomic_store(&p->run_start, snn_wall_time());
        atomic_store(&p->t_from, t_from);
        atomic_store(&p->t_to, t_to);
    }
    double done = t_to > t_from ? (t - t_from) / (t_to - t_from) : 1.0;
    atomic_store(&p->what, phase ? phase : "");
    atomic_store(&p->t, t);
    atomic_store(&p->done, done);
    double now = snn_wall_time();
    if (!snn_progress_due(p, now))
        return;
    char line[256], left[64] = "";
    double run_wall = now - atomic_load(&p->run_start);
    if (done > 0.01 && done < 1)
        snprintf(left, sizeof left, ", about %.1f s left", run_wall * (1 - done) / done);
    snprintf(line, sizeof line, "[snndsl] phase %s  t = %.3f s  (%.0f%% of this run%s)  %.1f s wall",
             phase ? phase : "", t, 100.0 * done, left, now - atomic_load(&p->start));
    snn_progress_print(p, line, now);
}

void snn_progress_fraction(snn_progress *p, const char *what, double done)
{
    if (atomic_load(&p->what) != what) {  // a new setup step
        atomic_store(&p->run_start, snn_wall_time());
        atomic_store(&p->what, what ? what : "");
    }
    atomic_store(&p->done, done);
    double now = snn_wall_time();
    if (!snn_progress_due(p, now))
        return;
    char line[256];
    snprintf(line, sizeof line, "[snndsl] %s  %.0f%%  (%.1f s wall)", what ? what : "", 100.0 * done,
             now - atomic_load(&p->start));
    snn_progress_print(p, line, now);
}

void snn_progress_finish(snn_progress *p)
{
    if (p->printed && !p->quiet && p->tty)
        fputc('\n', stderr);
    p->printed = 0;
}

void snn_progress_read(const snn_progress *p, snn_progress_info *out)
{
    double now = snn_wall_time();
    out->what = atomic_load(&p->what);
    out->t = atomic_load(&p->t);
    out->t_from = atomic_load(&p->t_from);
    out->t_to = atomic_load(&p->t_to);
    out->done = atomic_load(&p->done);
    out->wall = now - atomic_load(&p->start);
    out->run_wall = now - atomic_load(&p->run_start);
}


/* ---- exact integration of linear systems --------------------------------- */

/* out = expm(A) for an m x m row-major matrix: scale A by 2^-s until its
 * norm is below 1/2, sum the Taylor series to machine precision, square s
 * times. Enough for the small, well-behaved systems of neuron models. */
/* Systems of up to SNN_EXACT_STACK variables (matrices of twice that size) work
 * on the stack: the exact steps whose factors are made in each step
 * (snn_exact_step) call this for every element. */
#define SNN_EXACT_STACK 4

static int snn_expm(int m, const double *A, double *out)
{
    size_t mm = (size_t)m * (size_t)m;
    double stack[3 * (2 * SNN_EXACT_STACK) * (2 * SNN_EXACT_STACK)];
    double *heap = m <= 2 * SNN_EXACT_STACK ? NULL : malloc(3 * mm * sizeof *heap);
    if (m > 2 * SNN_EXACT_STACK && !heap) return -1;
    double *X = heap ? heap : stack, *term = X + mm, *tmp = term + mm;  /* each written before it is read */
    double norm = 0;
    for (int r = 0; r < m; r++) {
        double row = 0;
        for (int c = 0; c < m; c++) row += fabs(A[r * m + c]);
        if (row > norm) norm = row;
    }
    int ok = isfinite(norm);
    int squarings = 0;
    double scale = 1;
    while (ok && norm * scale > 0.5 && squarings < 1000) {
        scale *= 0.5;
        squarings++;
    }
    for (size_t k = 0; k < mm; k++) {
        X[k] = A[k] * scale;
        out[k] = 0;
        term[k] = 0;
    }
    for (int r = 0; r < m; r++) out[r * m + r] = term[r * m + r] = 1;
    for (int order = 1; ok && order < 40; order++) { /* term <- term * X / order */
        double biggest = 0;
        for (int r = 0; r < m; r++)
            for (int c = 0; c < m; c++) {
                double sum = 0;
                for (int k = 0; k < m; k++) sum += term[r * m + k] * X[k * m + c];
                tmp[r * m + c] = sum / order;
            }
        for (size_t k = 0; k < mm; k++) {
            term[k] = tmp[k];
            out[k] += term[k];
            if (fabs(term[k]) > biggest) biggest = fabs(term[k]);
        }
        if (biggest < 1e-18) break;
    }
    for (int q = 0; ok && q < squarings; q++) {
        for (int r = 0; r < m; r++)
            for (int c = 0; c < m; c++) {
                double sum = 0;
                for (int k = 0; k < m; k++) sum += out[r * m + k] * out[k * m + c];
                tmp[r * m + c] = sum;
            }
        memcpy(out, tmp, mm * sizeof *out);
    }
    for (size_t k = 0; k < mm; k++) ok = ok && isfinite(out[k]);
    free(heap);
    return ok ? 0 : -1;
}

static int snn_exact_one(int n, const double *M, const int *frozen, double dt, double *E, double *F)
{
    int m = 2 * n;
    size_t mm = (size_t)m * (size_t)m;
    double stack[2 * (2 * SNN_EXACT_STACK) * (2 * SNN_EXACT_STACK)];
    double *heap = n <= SNN_EXACT_STACK ? NULL : malloc(2 * mm * sizeof *heap);
    if (n > SNN_EXACT_STACK && !heap) return -1;
    double *A = heap ? heap : stack, *X = A + mm;
    memset(A, 0, mm * sizeof *A);
    for (int r = 0; r < n; r++) {
        if (frozen && frozen[r]) continue;
        for (int c = 0; c < n; c++) A[r * m + c] = M[r * n + c] * dt;
        A[r * m + n + r] = dt;
    }
    int rc = snn_expm(m, A, X);
    if (rc == 0)
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) {
                E[r * n + c] = X[r * m + c];
                F[r * n + c] = X[r * m + n + c];
            }
    free(heap);
    return rc;
}

int snn_exact_step(int n, const double *M, const int *frozen, double dt, double *E, double *F)
{
    return snn_exact_one(n, M, frozen, dt, E, F);
}

int snn_exact_diagonal(int n, const double *M, const int *frozen, double dt, double *E, double *F)
{
    int ok = 1;
    for (int k = 0; k < n * n; k++) E[k] = F[k] = 0.0;
    for (int r = 0; r < n; r++) {
        const int rr = r * n + r;
        if (frozen && frozen[r]) {
            E[rr] = 1.0;
            continue;
        }
        const double x = M[rr] * dt;
        E[rr] = exp(x);
        F[rr] = fabs(x) < 1e-16 ? dt : x > 717 ? INFINITY : expm1(x) / x * dt;  /* dt exprel(a dt) */
        ok = ok && isfinite(E[rr]) && isfinite(F[rr]);
    }
    return ok ? 0 : -1;
}

int snn_exact_factors(int n, const double *M, const int *frozen, double dt,
                      double *E, double *F, double *Eref, double *Fref)
{
    if (snn_exact_one(n, M, NULL, dt, E, F)) return -1;
    return snn_exact_one(n, M, frozen, dt, Eref, Fref);
}

/* ---------------------------------------------------------------------------
 * Networks: spike generators and connectivity
 * ------------------------------------------------------------------------- */

typedef struct { double t; int32_t i; } snn_timed_spike;

static int snn_cmp_spike(const void *a, const void *b)
{
    const snn_timed_spike *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void *snn_zalloc(int64_t n, size_t size)
{
    const size_t count = n > 0 ? (size_t)n : 1;
    void *p = calloc(count, size);
#ifdef MADV_HUGEPAGE
    /* Arrays of several MiB: ask for 2 MiB pages where the kernel gives them
       only on request (transparent huge pages in "madvise" mode). A pathway
       that visits a neuron's synapses at a stride of N x 8 bytes touches a
       new 4 KiB page at every synapse; with 2 MiB pages the page-table walks
       vanish. Only the whole huge pages inside the block are advised; a
       refusal changes nothing but speed. */
    const size_t huge = (size_t)2 << 20;
    if (p && count <= SIZE_MAX / size && count * size >= 2 * huge) {
        const uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
        const uintptr_t hi = ((uintptr_t)p + count * size) & ~(uintptr_t)(huge - 1);
        if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return p;
}

static void *snn_calloc_n(int64_t n, size_t size, char *err, size_t errlen)
{
    void *p = snn_zalloc(n, size);
    if (!p) fail(err, errlen, "out of memory (%lld elements)", (long long)n);
    return p;
}

/* Calendar of next spikes (see snn_runtime.h). */

static int snn_cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

//! Insertion sort for the few sources due in one step (qsort beyond).
static void snn_sort_i32(int32_t *v, int64_t n)
{
    if (n > 32) {
        qsort(v, (size_t)n, sizeof *v, snn_cmp_i32);
        return;
    }
    for (int64_t k = 1; k < n; k++) {
        const int32_t x = v[k];
        int64_t m = k;
        for (; m > 0 && v[m - 1] > x; m--) v[m] = v[m - 1];
        v[m] = x;
    }
}

int snn_calendar_build(snn_calendar *c, int64_t n, const int64_t *next, int64_t now, char *err, size_t errlen)
{
    if (!c->slot) {
        int64_t slots = 64;
        while (slots < n && slots < (INT64_C(1) << 20)) slots <<= 1;
        c->slot = calloc((size_t)slots, sizeof *c->slot);
        if (!c->slot) return fail(err, errlen, "out of memory (a calendar of %lld slots)", (long long)slots);
        c->nslots = slots;
        for (int64_t k = 0; k < slots; k++) snn_buf_init(&c->slot[k], sizeof(int32_t));
    }
    for (int64_t k = 0; k < c->nslots; k++) c->slot[k].len = 0;
    for (int64_t i = 0; i < n; i++)
        if (next[i] >= now && snn_calendar_add(c, (int32_t)i, next[i], err, errlen)) return -1;
    return 0;
}

int snn_calendar_add(snn_calendar *c, int32_t i, int64_t step, char *err, size_t errlen)
{
    if (step > SNN_MAX_STEPS) return 0;  /* never emitted */
    snn_buf *b = &c->slot[step & (c->nslots - 1)];
    if (snn_buf_reserve(b, 1)) return fail(err, errlen, "out of memory in the calendar of a Poisson group");
    ((int32_t *)b->data)[b->len++] = i;
    return 0;
}

int64_t snn_calendar_due(snn_calendar *c, int64_t step, const int64_t *next, int32_t *out)
{
    const int64_t mask = c->nslots - 1;
    snn_buf *b = &c->slot[step & mask];
    int32_t *e = b->data;
    size_t keep = 0;
    int64_t n = 0;
    for (size_t k = 0; k < b->len; k++) {
        const int32_t i = e[k];
        if (next[i] == step)
            out[n++] = i;
        else if (next[i] > step && (next[i] & mask) == (step & mask))
            e[keep++] = i;  /* a later lap */
    }
    b->len = keep;
    snn_sort_i32(out, n);
    return n;
}

void snn_calendar_free(snn_calendar *c)
{
    if (c->slot)
        for (int64_t k = 0; k < c->nslots; k++) snn_buf_free(&c->slot[k]);
    free(c->slot);
    c->slot = NULL;
    c->nslots = 0;
}

int snn_spikegen_sort(int64_t n, const double *idx, int64_t n_idx, const double *times, int64_t n_times,
                      double dt, const char *name, const char *site,
                      int64_t *nsrc, int32_t **src_i, int64_t **src_step, char *err, size_t errlen)
{
    *nsrc = 0;
    *src_i = NULL;
    *src_step = NULL;
    if (n_idx != n_times)
        return fail(err, errlen, "%s: error[E0601]: spikes group '%s' has %lld indices but %lld times",
                           site, name, (long long)n_idx, (long long)n_times);
    for (int64_t k = 0; k < n_idx; k++) {
        if (idx[k] != floor(idx[k]) || idx[k] < 0 || idx[k] >= (double)n)
            return fail(err, errlen, "%s: error[E0601]: spikes group '%s': index %g (entry %lld) is not "
                               "an integer in [0, %lld)", site, name, idx[k], (long long)k, (long long)n);
        if (!(times[k] >= 0))
            return fail(err, errlen, "%s: error[E0601]: spikes group '%s': time %g s (entry %lld) is "
                               "negative", site, name, times[k], (long long)k);
    }
    snn_timed_spike *ev = snn_calloc_n(n_idx, sizeof *ev, err, errlen);
    int64_t *last = ev ? snn_calloc_n(n, sizeof *last, err, errlen) : NULL;
    *src_i = last ? snn_calloc_n(n_idx, sizeof **src_i, err, errlen) : NULL;
    *src_step = *src_i ? snn_calloc_n(n_idx, sizeof **src_step, err, errlen) : NULL;
    int rc = *src_step ? 0 : -1;
    if (rc == 0) {
        for (int64_t k = 0; k < n_idx; k++) {
            ev[k].t = times[k];
            ev[k].i = (int32_t)idx[k];
        }
        qsort(ev, (size_t)n_idx, sizeof *ev, snn_cmp_spike);
        for (int64_t k = 0; k < n; k++) last[k] = -1;
        for (int64_t k = 0; k < n_idx; k++) {
            int64_t step = snn_elapsed_steps(ev[k].t, dt);  /* past the last step: never emitted */
            if (last[ev[k].i] == step && step <= SNN_MAX_STEPS) {
                rc = fail(err, errlen, "%s: error[E0601]: spikes group '%s': neuron %d spikes twice in "
                                 "the time step at %g s; use a smaller dt", site, name, ev[k].i, (double)step * dt);
                break;
            }
            last[ev[k].i] = step;
            (*src_i)[k] = ev[k].i;
            (*src_step)[k] = step;
        }
    }
    free(last);
    free(ev);
    if (rc) {
        free(*src_i);
        free(*src_step);
        *src_i = NULL;
        *src_step = NULL;
        return -1;
    }
    *nsrc = n_idx;
    return 0;
}

int snn_check_pairs(const snn_array *a, int64_t n_pre, int64_t n_post, const char *name, const char *site,
                    char *err, size_t errlen)
{
    if (a->ndim != 2 || a->shape[1] != 2)
        return fail(err, errlen, "%s: error[E0601]: data '%s' must have shape (n, 2) to connect from it",
                           site, name);
    for (int64_t k = 0; k < (int64_t)a->shape[0]; k++) {
        double i = a->data[2 * k], j = a->data[2 * k + 1];
        if (i != floor(i) || j != floor(j) || i < 0 || j < 0 || i >= (double)n_pre || j >= (double)n_post)
            return fail(err, errlen, "%s: error[E0601]: data '%s' row %lld: (%g, %g) is not a pair of "
                               "indices in [0, %lld) x [0, %lld)", site, name, (long long)k, i, j,
                               (long long)n_pre, (long long)n_post);
    }
    return 0;
}

int snn_connect_pairs(const snn_array *a, int64_t n_pre, int64_t n_post, const char *name, const char *site,
                      int64_t *nsyn, int32_t **pre, int32_t **post, char *err, size_t errlen)
{
    *nsyn = 0;
    *pre = NULL;
    *post = NULL;
    if (snn_check_pairs(a, n_pre, n_post, name, site, err, errlen))
        return -1;
    int64_t n = (int64_t)a->shape[0];
    if (n > SNN_MAX_SYNAPSES)
        return fail(err, errlen, "%s: error[E0601]: data '%s' has %lld rows: snndsl numbers a group's synapses "
                                 "with 32-bit integers, at most %lld", site, name, (long long)n,
                    (long long)SNN_MAX_SYNAPSES);
    *pre = snn_calloc_n(n, sizeof **pre, err, errlen);
    *post = *pre ? snn_calloc_n(n, sizeof **post, err, errlen) : NULL;
    if (!*post) {
        free(*pre);
        *pre = NULL;
        return -1;
    }
    for (int64_t k = 0; k < n; k++) {
        (*pre)[k] = (int32_t)a->data[2 * k];
        (*post)[k] = (int32_t)a->data[2 * k + 1];
    }
    *nsyn = n;
    return 0;
}

static int snn_index_one(int64_t nsyn, const int32_t *end, const int32_t *far, int64_t n,
                         int64_t **start, int32_t **syn, int32_t **other, char *err, size_t errlen)
{
    *start = snn_calloc_n(n + 1, sizeof **start, err, errlen);
    if (!*start) return -1;
    for (int64_t s = 0; s < nsyn; s++) (*start)[end[s] + 1]++;
    for (int64_t k = 0; k < n; k++) (*start)[k + 1] += (*start)[k];
    if (!syn) return 0;  /* numbered in this end's order: the lists are the ranges themselves */
    *syn = snn_calloc_n(nsyn, sizeof **syn, err, errlen);
    *other = *syn ? snn_calloc_n(nsyn, sizeof **other, err, errlen) : NULL;
    int64_t *fill = *other ? snn_calloc_n(n, sizeof *fill, err, errlen) : NULL;
    if (!fill) return -1;  /* what was allocated is the caller's to free, as on success */
    for (int64_t s = 0; s < nsyn; s++) {
        int64_t p = (*start)[end[s]] + fill[end[s]]++;
        (*syn)[p] = (int32_t)s;
        (*other)[p] = far[s];
    }
    free(fill);
    return 0;
}

int snn_index_synapses(int64_t nsyn, const int32_t *pre, const int32_t *post, int64_t n_pre, int64_t n_post,
                       int64_t **pre_start, int32_t **pre_syn, int32_t **pre_other,
                       int64_t **post_start, int32_t **post_syn, int32_t **post_other, char *err, size_t errlen)
{
    *post_start = NULL;
    if (post_syn) *post_syn = *post_other = NULL;
    if (nsyn > SNN_MAX_SYNAPSES) {
        snprintf(err, errlen, "%lld synapses in one group: snndsl numbers them with 32-bit integers, at most "
                 "%lld", (long long)nsyn, (long long)SNN_MAX_SYNAPSES);
        return -1;
    }
    if (!pre_syn)  /* in presynaptic order, as the caller says: a compiler bug if not (post lists may be
                      left out likewise, where a postsynaptic neuron's synapses are computed) */
        for (int64_t s = 1; s < nsyn; s++)
            if (pre[s] < pre[s - 1]) {
                snprintf(err, errlen, "internal error: synapse %lld is not in presynaptic order", (long long)s);
                return -1;
            }
    if (snn_index_one(nsyn, pre, post, n_pre, pre_start, pre_syn, pre_other, err, errlen)) return -1;
    return snn_index_one(nsyn, post, pre, n_post, post_start, post_syn, post_other, err, errlen);
}

/* Whether every elapsed time t - clock[j], j in [lo, hi), is a whole number of
 * steps within the decay tables: the case in which snn_decay reads the table, so
 * that snn_decay_tabulated gives the same factors. One pass without branches (an
 * elapsed time out of range is not converted to an integer), which vectorizes;
 * compiled once with the runtime, not into every model. */
int snn_decays_tabulated(const double *clock, int64_t lo, int64_t hi, double t, double inv_dt)
{
    int ok = 1;
    for (int64_t j = lo; j < hi; j++) {
        const double steps = (t - clock[j]) * inv_dt;
        const int within = steps >= 0 && steps < SNN_DECAY_STEPS - 1;
        const int64_t k = (int64_t)((within ? steps : 0) + 0.5);
        ok &= within & (fabs(steps - (double)k) < 1e-6);
    }
    return ok;
}

int32_t *snn_rows_expand(const int64_t *start, int64_t n)
{
    int32_t *out = malloc((size_t)(start[n] > 0 ? start[n] : 1) * sizeof *out);
    if (!out) return NULL;
    for (int64_t r = 0; r < n; r++)
        for (int64_t s = start[r]; s < start[r + 1]; s++) out[s] = (int32_t)r;
    return out;
}

int64_t snn_rows_ascending(const int64_t *start, const int32_t *other, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        for (int64_t p = start[k] + 1; p < start[k + 1]; p++)
            if (other[p] < other[p - 1]) return 0;
    return 1;
}

/* ---------------------------------------------------------------------------
 * Snapshots
 * ------------------------------------------------------------------------- */

uint64_t snn_crc64(const void *data, size_t n)
{
    uint64_t table[256];  /* built per call: the runtime keeps no static state */
    for (uint64_t b = 0; b < 256; b++) {
        uint64_t c = b;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ UINT64_C(0xC96C5795D7870F42) : c >> 1;
        table[b] = c;
    }
    const unsigned char *p = data;
    uint64_t crc = ~UINT64_C(0);
    for (size_t k = 0; k < n; k++) crc = table[(crc ^ p[k]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

int64_t snn_check_range_i32(const int32_t *a, int64_t n, int64_t lo, int64_t hi)
{
    for (int64_t k = 0; k < n; k++)
        if (a[k] < lo || a[k] >= hi) return k;
    return -1;
}

int64_t snn_check_range_i64(const int64_t *a, int64_t n, int64_t lo, int64_t hi)
{
    for (int64_t k = 0; k < n; k++)
        if (a[k] < lo || a[k] >= hi) return k;
    return -1;
}

int64_t snn_check_offsets(const int64_t *start, int64_t n, int64_t total)
{
    if (start[0] != 0) return 0;
    for (int64_t k = 1; k <= n; k++)
        if (start[k] < start[k - 1] || start[k] > total) return k;
    return start[n] == total ? -1 : n;
}

int64_t snn_check_steps(const int64_t *step, int64_t n, int64_t most)
{
    int64_t run = 0;
    for (int64_t k = 0; k < n; k++) {
        if (k > 0 && step[k] < step[k - 1]) return k;
        run = (k > 0 && step[k] == step[k - 1]) ? run + 1 : 1;
        if (run > most) return k;
    }
    return -1;
}

int64_t snn_check_ring(const int32_t *ring, const int64_t *len, int64_t slots, int64_t width)
{
    for (int64_t k = 0; k < slots; k++)
        if (len[k] < 0 || len[k] > width || snn_check_range_i32(ring + k * width, len[k], 0, width) >= 0) return k;
    return -1;
}

int64_t snn_check_slots(const snn_buf *slots, int64_t n, int64_t hi)
{
    for (int64_t k = 0; k < n; k++)
        if (slots[k].elsize != sizeof(int32_t) || slots[k].len > (size_t)INT64_MAX
            || snn_check_range_i32(slots[k].data, (int64_t)slots[k].len, 0, hi) >= 0) return k;
    return -1;
}

/* ---- ranks ---------------------------------------------------------------- */

int snn_rank_owner(int64_t e, int64_t n, int ranks)
{
    int r = (int)((e * ranks) / (n > 0 ? n : 1));
    if (r >= ranks) r = ranks - 1;
    while (r + 1 < ranks && snn_part_start(n, r + 1, ranks) <= e) r++;
    while (r > 0 && snn_part_start(n, r, ranks) > e) r--;
    return r;
}

#ifdef SNN_MPI
#include <mpi.h>

int snn_rank_spikes(int ngroups, int32_t *const *spikes, int64_t *const *counts, int ranks, char *err,
                    size_t errlen)
{
    if (ranks == 1) return 0;
    int64_t mine = 0;
    for (int g = 0; g < ngroups; g++) mine += *counts[g];
    int *all = malloc(((size_t)ranks * (size_t)(ngroups + 2)) * sizeof *all);
    int32_t *sent = malloc(((size_t)mine + 1) * sizeof *sent);
    int32_t *whole = NULL;
    if (!all || !sent) goto oom;
    int *mine_by_group = all + (size_t)ranks * (size_t)ngroups, *cursor = mine_by_group + ranks;  /* scratch */
    int *each = malloc((size_t)ngroups * sizeof *each);
    if (!each) goto oom;
    for (int g = 0; g < ngroups; g++) each[g] = (int)*counts[g];
    MPI_Allgather(each, ngroups, MPI_INT, all, ngroups, MPI_INT, MPI_COMM_WORLD);  /* rank r, group g: all[r G + g] */
    free(each);
    int64_t at = 0;
    for (int g = 0; g < ngroups; g++) {
        memcpy(sent + at, spikes[g], (size_t)*counts[g] * sizeof *sent);
        at += *counts[g];
    }
    int64_t total = 0;
    for (int r = 0; r < ranks; r++) {
        int from_r = 0;
        for (int g = 0; g < ngroups; g++) from_r += all[(size_t)r * ngroups + g];
        mine_by_group[r] = from_r;  /* what rank r sends, all its groups */
        cursor[r] = (int)total;
        total += from_r;
    }
    whole = malloc(((size_t)total + 1) * sizeof *whole);
    if (!whole) goto oom;
    MPI_Allgatherv(sent, (int)mine, MPI_INT32_T, whole, mine_by_group, cursor, MPI_INT32_T, MPI_COMM_WORLD);
    for (int g = 0; g < ngroups; g++) {  /* each group's list: its part from each rank, in rank order */
        int64_t n = 0;
        for (int r = 0; r < ranks; r++) {
            const int part = all[(size_t)r * ngroups + g];
            memcpy(spikes[g] + n, whole + cursor[r], (size_t)part * sizeof *whole);
            cursor[r] += part;
            n += part;
        }
        *counts[g] = n;
    }
    free(whole);
    free(sent);
    free(all);
    return 0;
oom:
    free(whole);
    free(sent);
    free(all);
    snprintf(err, errlen, "out of memory exchanging spikes between ranks");
    return -1;
}

int snn_rank_sync(void *data, size_t size, int64_t first, int64_t n, const int32_t *index, int64_t owner_n,
                  int rank, int ranks, char *err, size_t errlen)
{
    if (ranks == 1 || n <= 0) return 0;
    MPI_Datatype t;
    MPI_Type_contiguous((int)size, MPI_BYTE, &t);
    MPI_Type_commit(&t);
    int *counts = malloc(3 * (size_t)ranks * sizeof *counts);
    if (!counts) goto oom;
    int *displs = counts + ranks, *cursor = counts + 2 * ranks;
    if (!index && first == 0 && n == owner_n) {  /* the blocks themselves: in place */
        for (int r = 0; r < ranks; r++) {
            displs[r] = (int)snn_part_start(n, r, ranks);
            counts[r] = (int)(snn_part_start(n, r + 1, ranks) - displs[r]);
        }
        MPI_Allgatherv(MPI_IN_PLACE, 0, t, data, counts, displs, t, MPI_COMM_WORLD);
    } else {
        int32_t *owner = malloc((size_t)n * sizeof *owner);
        char *packed = malloc((size_t)n * size + 1), *whole = malloc((size_t)n * size + 1);
        if (!owner || !packed || !whole) {
            free(owner);
            free(packed);
            free(whole);
            free(counts);
            goto oom;
        }
        for (int r = 0; r < ranks; r++) counts[r] = 0;
        int64_t mine = 0;
        char *at0 = (char *)data + (size_t)first * size;
        for (int64_t e = 0; e < n; e++) {
            owner[e] = snn_rank_owner(index ? index[first + e] : first + e, owner_n, ranks);
            counts[owner[e]]++;
            if (owner[e] == rank) memcpy(packed + (size_t)mine++ * size, at0 + (size_t)e * size, size);
        }
        int64_t at = 0;
        for (int r = 0; r < ranks; r++) {
            displs[r] = cursor[r] = (int)at;
            at += counts[r];
        }
        MPI_Allgatherv(packed, (int)mine, t, whole, counts, displs, t, MPI_COMM_WORLD);
        for (int64_t e = 0; e < n; e++)
            memcpy(at0 + (size_t)e * size, whole + (size_t)cursor[owner[e]]++ * size, size);
        free(owner);
        free(packed);
        free(whole);
    }
    free(counts);
    MPI_Type_free(&t);
    return 0;
oom:
    MPI_Type_free(&t);
    snprintf(err, errlen, "out of memory exchanging state between ranks");
    return -1;
}

int snn_rank_any(int flag)
{
    int any = 0;
    MPI_Allreduce(&flag, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

/* One agreement, the same collective in snn_rank_running and snn_rank_settle
 * (collectives match by order, not by where they are called): the maximum of
 * {rc, running, rank 0 reports, -running} over the ranks. */
enum { SNN_AGREE_RC, SNN_AGREE_RUNNING, SNN_AGREE_RANK0, SNN_AGREE_ALL_RUNNING, SNN_AGREE_N };

static void snn_rank_agree(const int mine[SNN_AGREE_N], int all[SNN_AGREE_N])
{
    MPI_Allreduce(mine, all, SNN_AGREE_N, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
}

int snn_rank_running(char *err, size_t errlen)
{
    const int mine[SNN_AGREE_N] = {0, 1, 0, -1};
    int all[SNN_AGREE_N];
    snn_rank_agree(mine, all);
    if (all[SNN_AGREE_ALL_RUNNING] == -1) return 1;
    if (all[SNN_AGREE_RC] != 0)
        snprintf(err, errlen, "%s", "");  /* a rank failed before this run, and reports why */
    else
        snprintf(err, errlen, "model: error[E0601]: the ranks ran different protocols: one finished while another "
                              "began a run (were they given different --set or --data?)");
    return 0;
}

int snn_rank_settle(int rc, int reports, int rank, int *rank0_reports)
{
    const int mine[SNN_AGREE_N] = {rc, 0, rank == 0 && reports, 0};
    int all[SNN_AGREE_N];
    do snn_rank_agree(mine, all);  /* a rank still running is at its next run's start: it stops there */
    while (all[SNN_AGREE_RUNNING]);
    *rank0_reports = all[SNN_AGREE_RANK0];
    return all[SNN_AGREE_RC];
}

/* Failures inside a run meet on a communicator of their own: its barrier
 * matches none of the collectives the ranks still running wait in. */
static MPI_Comm snn_fail_comm = MPI_COMM_NULL;

void snn_rank_init(void)
{
    MPI_Comm_dup(MPI_COMM_WORLD, &snn_fail_comm);
}

void snn_rank_finish(void)
{
    if (snn_fail_comm != MPI_COMM_NULL) MPI_Comm_free(&snn_fail_comm);
}

void snn_rank_failed_in_run(int rank, const char *message)
{
    int together = 0;
    if (snn_fail_comm != MPI_COMM_NULL) {
        MPI_Request barrier;
        MPI_Ibarrier(snn_fail_comm, &barrier);
        const double until = MPI_Wtime() + 1.0;
        const struct timespec pause = {0, 1000000};
        while (MPI_Test(&barrier, &together, MPI_STATUS_IGNORE) == MPI_SUCCESS && !together && MPI_Wtime() < until)
            nanosleep(&pause, NULL);
    }
    if (together) return;  /* every rank failed in this run: they settle, and rank 0 reports */
    fprintf(stderr, "rank %d: %s\n", rank, message);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
}
#endif
