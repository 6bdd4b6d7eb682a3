#include "core/synthetic.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/id.h"

namespace shixin {
namespace {

// ---------------------------------------------------------------------------------------------
// Tables. Area codes are real GB/T 2260 codes; every province here has at least one court.

struct Area {
  std::string_view code;   // 6-digit administrative division code
  std::string_view city;   // for bank branch names: "中国银行股份有限公司鹤岗分行"
  std::string_view place;  // prefix of organisation names: "鹤岗市", "萝北县"
};

constexpr Area kAreas[] = {
    {"110101", "北京", "北京市"},       {"110105", "北京", "北京市"},
    {"110108", "北京", "北京市"},       {"120101", "天津", "天津市"},
    {"120104", "天津", "天津市"},       {"130102", "石家庄", "石家庄市"},
    {"130203", "唐山", "唐山市"},       {"140105", "太原", "太原市"},
    {"210102", "沈阳", "沈阳市"},       {"210202", "大连", "大连市"},
    {"220102", "长春", "长春市"},       {"230102", "哈尔滨", "哈尔滨市"},
    {"230103", "哈尔滨", "哈尔滨市"},   {"230402", "鹤岗", "鹤岗市"},
    {"230403", "鹤岗", "鹤岗市"},       {"230404", "鹤岗", "鹤岗市"},
    {"230405", "鹤岗", "鹤岗市"},       {"230406", "鹤岗", "鹤岗市"},
    {"230407", "鹤岗", "鹤岗市"},       {"230421", "鹤岗", "萝北县"},
    {"230422", "鹤岗", "绥滨县"},       {"230602", "大庆", "大庆市"},
    {"310101", "上海", "上海市"},       {"310115", "上海", "上海市"},
    {"320102", "南京", "南京市"},       {"320505", "苏州", "苏州市"},
    {"330102", "杭州", "杭州市"},       {"330106", "杭州", "杭州市"},
    {"330111", "杭州", "杭州市富阳区"}, {"330302", "温州", "温州市"},
    {"340102", "合肥", "合肥市"},       {"350102", "福州", "福州市"},
    {"350125", "福州", "永泰县"},       {"350502", "泉州", "泉州市"},
    {"360102", "南昌", "南昌市"},       {"370102", "济南", "济南市"},
    {"370202", "青岛", "青岛市"},       {"410102", "郑州", "郑州市"},
    {"420102", "武汉", "武汉市"},       {"430102", "长沙", "长沙市"},
    {"440103", "广州", "广州市"},       {"440304", "深圳", "深圳市"},
    {"500103", "重庆", "重庆市"},       {"510104", "成都", "成都市"},
    {"530102", "昆明", "昆明市"},       {"610102", "西安", "西安市"},
};
constexpr int kAreaCount = sizeof(kAreas) / sizeof(kAreas[0]);

struct Court {
  int province;             // first two digits of the area codes it serves
  std::string_view name;    // courtName and gistUnit
  std::string_view region;  // areaName: province short name
  std::string_view code;    // case-number court code since 2016: "黑04", "黑0402"
  std::string_view abbr;    // case-number abbreviation before 2016: "鹤中法"
};

constexpr Court kCourts[] = {
    {11, "北京市朝阳区人民法院", "北京", "京0105", "朝民法"},
    {11, "北京市海淀区人民法院", "北京", "京0108", "海法"},
    {12, "天津市和平区人民法院", "天津", "津0101", "和法"},
    {13, "石家庄市长安区人民法院", "河北", "冀0102", "长法"},
    {14, "太原市小店区人民法院", "山西", "晋0105", "小法"},
    {21, "沈阳市和平区人民法院", "辽宁", "辽0102", "沈和法"},
    {22, "长春市南关区人民法院", "吉林", "吉0102", "长南法"},
    {23, "鹤岗市中级人民法院", "黑龙江", "黑04", "鹤中法"},
    {23, "鹤岗市向阳区人民法院", "黑龙江", "黑0402", "鹤向法"},
    {23, "鹤岗市工农区人民法院", "黑龙江", "黑0403", "鹤工法"},
    {23, "鹤岗市南山区人民法院", "黑龙江", "黑0404", "鹤南法"},
    {23, "鹤岗市兴安区人民法院", "黑龙江", "黑0405", "鹤兴法"},
    {23, "鹤岗市东山区人民法院", "黑龙江", "黑0406", "鹤东法"},
    {23, "萝北县人民法院", "黑龙江", "黑0421", "萝法"},
    {23, "绥滨县人民法院", "黑龙江", "黑0422", "绥法"},
    {23, "哈尔滨市中级人民法院", "黑龙江", "黑01", "哈中法"},
    {23, "哈尔滨市南岗区人民法院", "黑龙江", "黑0103", "南法"},
    {31, "上海市浦东新区人民法院", "上海", "沪0115", "浦法"},
    {32, "南京市玄武区人民法院", "江苏", "苏0102", "玄法"},
    {33, "杭州市中级人民法院", "浙江", "浙01", "浙杭中法"},
    {33, "杭州市富阳区人民法院", "浙江", "浙0111", "杭富法"},
    {33, "杭州市西湖区人民法院", "浙江", "浙0106", "杭西法"},
    {33, "温州市鹿城区人民法院", "浙江", "浙0302", "温鹿法"},
    {34, "合肥市瑶海区人民法院", "安徽", "皖0102", "瑶法"},
    {35, "福州市鼓楼区人民法院", "福建", "闽0102", "鼓法"},
    {35, "永泰县人民法院", "福建", "闽0125", "泰法"},
    {35, "泉州市鲤城区人民法院", "福建", "闽0502", "鲤法"},
    {36, "南昌市东湖区人民法院", "江西", "赣0102", "东法"},
    {37, "济南市历下区人民法院", "山东", "鲁0102", "历商法"},
    {37, "青岛市市南区人民法院", "山东", "鲁0202", "南法"},
    {41, "郑州市中原区人民法院", "河南", "豫0102", "中法"},
    {42, "武汉市江岸区人民法院", "湖北", "鄂0102", "鄂江岸法"},
    {43, "长沙市芙蓉区人民法院", "湖南", "湘0102", "芙法"},
    {44, "广州市荔湾区人民法院", "广东", "粤0103", "穗荔法"},
    {44, "深圳市福田区人民法院", "广东", "粤0304", "深福法"},
    {50, "重庆市渝中区人民法院", "重庆", "渝0103", "中区法"},
    {51, "成都市锦江区人民法院", "四川", "川0104", "锦江法"},
    {53, "昆明市五华区人民法院", "云南", "云0102", "五法"},
    {61, "西安市新城区人民法院", "陕西", "陕0102", "新法"},
};
constexpr int kCourtCount = sizeof(kCourts) / sizeof(kCourts[0]);

// Single-character surnames (3 UTF-8 bytes each), most frequent first.
constexpr std::string_view kSurnames =
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申耿关兰焦俞左";
constexpr std::string_view kCompoundSurnames[] = {"欧阳", "司马", "诸葛", "上官", "慕容", "东方"};
constexpr std::string_view kGivenChars =
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂华建国志红梅玉兰文斌辉丹萍鹏宇浩凯健俊峰晨阳"
    "雪琳欣怡涵佳宁春秋海波云飞龙凤金宝成新利民福贵祥瑞德才庆东亮雷鑫淑英兵光荣林玲燕莉婷慧颖"
    "卫忠喜山长永胜立江河水清泉松柏义仁礼智信广达富强振兴家和顺连喜彬莹晶子轩博文杨帆";
static_assert(kSurnames.size() % 3 == 0 && kGivenChars.size() % 3 == 0);

constexpr std::string_view kNameWords[] = {
    "鑫源", "宏达", "恒泰", "华盛", "金鼎",   "龙腾",   "顺通", "盛世", "天成", "鸿运", "永信",
    "瑞丰", "隆昌", "兴业", "汇通", "博远",   "嘉禾",   "正大", "富民", "东方", "北方", "龙江",
    "三江", "金山", "宝泰", "昌盛", "佳和",   "广源",   "中诚", "信达", "万通", "裕丰", "福瑞",
    "德润", "宇航", "联创", "安泰", "新世纪", "黑土地", "恒通", "润达", "聚鑫", "兴旺"};
constexpr std::string_view kCompanyKinds[] = {
    "商贸有限公司",         "建筑工程有限公司", "房地产开发有限公司", "煤业有限责任公司",
    "农业科技有限公司",     "物流有限公司",     "食品有限公司",       "建材有限公司",
    "汽车销售服务有限公司", "餐饮管理有限公司", "投资管理有限公司",   "装饰工程有限公司",
    "矿业有限公司",         "石墨科技有限公司", "木业有限公司",       "粮油贸易有限公司",
    "化工有限公司",         "置业有限公司",     "实业股份有限公司",   "机械制造有限公司",
    "劳务有限公司",         "热力有限公司",     "电子科技有限公司",   "酒店管理有限公司"};
constexpr std::string_view kShopKinds[] = {"商店",     "超市",       "饭店",
                                           "建材商店", "汽车修理部", "五金商店"};
constexpr std::string_view kCoopKinds[] = {"种植农民专业合作社", "养殖农民专业合作社",
                                           "农机农民专业合作社"};
constexpr std::string_view kSchoolKinds[] = {"培训学校", "幼儿园", "养老院"};
constexpr std::string_view kBanks[] = {"中国工商银行股份有限公司",     "中国农业银行股份有限公司",
                                       "中国银行股份有限公司",         "中国建设银行股份有限公司",
                                       "中国邮政储蓄银行股份有限公司", "交通银行股份有限公司"};

// The six grounds of listing, with their relative frequency (per mille).
struct Ground {
  std::string_view text;
  uint32_t weight;
};
constexpr Ground kGrounds[] = {
    {"有履行能力而拒不履行生效法律文书确定义务", 600},
    {"违反财产报告制度", 280},
    {"违反限制消费令", 70},
    {"以伪造证据、暴力、威胁等方法妨碍、抗拒执行", 20},
    {"以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行", 20},
    {"无正当理由拒不履行执行和解协议", 10},
};

// duty = a + debtor + b + plaintiff + c + amount + d.
enum Plaintiff : uint8_t { kAnyPlaintiff, kBankPlaintiff, kPersonPlaintiff, kCompanyPlaintiff };
struct DutyTemplate {
  std::string_view a, b, c, d;
  Plaintiff plaintiff;
};
constexpr DutyTemplate kDuties[] = {
    {"被告", "于本判决生效之日起十日内偿还原告", "借款本金", "及利息", kAnyPlaintiff},
    {"被执行人", "应给付申请执行人", "货款", "，并承担案件受理费", kCompanyPlaintiff},
    {"被告", "于判决生效后十日内支付原告", "工程款", "", kCompanyPlaintiff},
    {"被告", "赔偿原告", "经济损失", "，案件受理费由被告负担", kPersonPlaintiff},
    {"被告", "返还原告", "借款", "，并按年利率百分之六支付逾期利息", kPersonPlaintiff},
    {"被告", "偿还原告", "信用卡透支本金", "及相应利息、滞纳金", kBankPlaintiff},
    {"被告", "于本判决生效后十日内支付原告", "劳动报酬", "", kPersonPlaintiff},
    {"被告", "给付原告", "租金", "，于本判决生效后十日内付清", kAnyPlaintiff},
    {"被告人", "于判决生效后三十日内退赔被害人", "经济损失", "", kPersonPlaintiff},
    {"被告", "偿还原告", "贷款本金", "及至实际给付之日止的利息、罚息", kBankPlaintiff},
    {"被申请人", "向申请人", "支付", "，并承担本案仲裁费用", kAnyPlaintiff},
    {"被告", "于本判决生效之日起十日内给付原告", "买卖合同价款", "及逾期付款违约金",
     kCompanyPlaintiff},
};

// ---------------------------------------------------------------------------------------------
// Randomness: splitmix64 for hashing and seeding, xoshiro256** for streams. Integer-only, so
// the output is the same with every compiler and library.

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Streams keep the pure functions of (seed, number) independent of each other.
enum Stream : uint64_t { kKindStream = 1, kSubjectStream, kPersonStream, kOffsetStream };

uint64_t Hash(uint64_t seed, Stream stream, uint64_t index) {
  return Mix(Mix(seed * 0x100000001b3ULL + stream) ^ index);
}

class Rng {
 public:
  explicit Rng(uint64_t key) {
    for (uint64_t& s : s_) s = key = Mix(key);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Returns a number in [0, n) (multiply-shift: tiny bias, no rejection loop).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  uint64_t Below64(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  bool Chance(uint32_t per_million) { return Below(1000000) < per_million; }
  template <typename T, size_t N>
  const T& Pick(const T (&table)[N]) {
    return table[Below(N)];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// ---------------------------------------------------------------------------------------------
// Fixed-capacity text, so the hot loop never allocates. The tables bound every field far below
// the capacity.

template <size_t kCap>
class Text {
 public:
  void Clear() { size_ = 0; }
  void Add(std::string_view s) {
    const size_t n = std::min(s.size(), kCap - size_);
    std::memcpy(data_ + size_, s.data(), n);
    size_ += n;
  }
  void AddUint(uint64_t v, int min_digits = 1) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 || n < min_digits);
    while (n > 0 && size_ < kCap) data_[size_++] = digits[--n];
  }
  // Appends the `index`-th 3-byte character of `chars`.
  void AddChar3(std::string_view chars, size_t index) { Add(chars.substr(index * 3, 3)); }
  std::string_view view() const { return std::string_view(data_, size_); }

 private:
  char data_[kCap];
  size_t size_ = 0;
};

// Unicode characters in UTF-8 `s`.
size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Dates (proleptic Gregorian, days since 1970-01-01; H. Hinnant's algorithms).

constexpr int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Returns the date `z` as YYYYMMDD.
uint32_t CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  return static_cast<uint32_t>(y * 10000 + m * 100 + d);
}

// Whole years from `birth` to `date` (both YYYYMMDD).
uint8_t AgeAt(uint32_t birth, uint32_t date) {
  int age = static_cast<int>(date / 10000) - static_cast<int>(birth / 10000);
  if (date % 10000 < birth % 10000) --age;
  return static_cast<uint8_t>(std::clamp(age, 0, 255));
}

// ---------------------------------------------------------------------------------------------
// Identities. A person is a pure function of (seed, person number): listed persons are numbers
// [0, subjects) (the subject index), unlisted related persons come after. The number maps to
// (area, birth date, sequence) through a bijection, so distinct numbers give distinct IDs.

constexpr int64_t kFirstBirthDay = DaysFromCivil(1940, 1, 1);
constexpr int64_t kBirthDays = DaysFromCivil(2005, 1, 1) - kFirstBirthDay;
constexpr uint64_t kSequences = 999;        // 001-999
constexpr uint64_t kPersonMul = 982451653;  // prime above every factor of the space

// Organisation-code bodies: 8 digits, or "MA" + 6 credit-code characters (post-2015 codes).
constexpr uint64_t kDigitBodies = 100000000;
constexpr uint64_t kDigitMul = 73856093;   // coprime with 10^8
constexpr uint64_t kMaBodies = 887503681;  // 31^6
constexpr uint64_t kMaMul = 19349663;      // coprime with 31
static_assert(kDigitMul % 2 != 0 && kDigitMul % 5 != 0 && kMaMul % 31 != 0);
constexpr std::string_view kCreditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// Subject indices are org-code bodies and person numbers, so they must stay within both spaces.
constexpr uint64_t kMaxSubjects = kDigitBodies;

struct Person {
  char id[18];
  uint32_t birth;  // YYYYMMDD
  uint8_t sex;     // 1 male, 2 female
  int area;
  Text<16> name;
};

bool IsListedPerson(uint64_t seed, uint64_t index) {
  return Hash(seed, kKindStream, index) % 100000 < 82000;
}

void MakePersonName(uint64_t h, Text<16>* name) {
  name->Clear();
  const size_t surnames = kSurnames.size() / 3;
  const size_t given = kGivenChars.size() / 3;
  if (h % 1000 < 4) {
    name->Add(kCompoundSurnames[(h >> 10) % std::size(kCompoundSurnames)]);
  } else {
    // The ten most frequent surnames cover about 40 % of people.
    name->AddChar3(kSurnames, (h >> 10) % 1000 < 400 ? (h >> 20) % 10 : (h >> 20) % surnames);
  }
  name->AddChar3(kGivenChars, (h >> 30) % given);
  if ((h >> 40) % 100 < 70) name->AddChar3(kGivenChars, (h >> 47) % given);
}

void MakePerson(uint64_t seed, uint64_t number, Person* p) {
  const uint64_t space = kAreaCount * static_cast<uint64_t>(kBirthDays) * kSequences;
  uint64_t x = (number * kPersonMul + Hash(seed, kOffsetStream, 0)) % space;
  const uint64_t sequence = x % kSequences + 1;
  x /= kSequences;
  p->birth = CivilFromDays(kFirstBirthDay + static_cast<int64_t>(x % kBirthDays));
  p->area = static_cast<int>(x / kBirthDays);
  p->sex = sequence % 2 == 1 ? 1 : 2;
  Text<18> id;
  id.Add(kAreas[p->area].code);
  id.AddUint(p->birth, 8);
  id.AddUint(sequence, 3);
  std::memcpy(p->id, id.view().data(), 17);
  p->id[17] = ResidentCheckChar(id.view());
  MakePersonName(Hash(seed, kPersonStream, number), &p->name);
}

// Writes the 9-character organisation code of subject `index` into `out`.
void MakeOrgCode(uint64_t seed, uint64_t index, bool new_style, char* out) {
  if (new_style) {
    uint64_t x = (index * kMaMul + Hash(seed, kOffsetStream, 2)) % kMaBodies;
    out[0] = 'M';
    out[1] = 'A';
    for (int i = 7; i >= 2; --i, x /= 31) out[i] = kCreditChars[x % 31];
  } else {
    uint64_t x = (index * kDigitMul + Hash(seed, kOffsetStream, 1)) % kDigitBodies;
    for (int i = 7; i >= 0; --i, x /= 10) out[i] = static_cast<char>('0' + x % 10);
  }
  out[8] = OrgCodeCheckChar(std::string_view(out, 8));
}

struct Organization {
  IdKind kind;
  char id[18];
  size_t id_size;
  int area;
  bool relations_by_org_code;  // the relations feed names it by its embedded org code
  Text<96> name;
};

void MakeOrgName(Rng& rng, std::string_view type, const Area& area, Text<96>* name) {
  name->Clear();
  name->Add(area.place);
  name->Add(rng.Pick(kNameWords));
  if (type == "92") {
    name->Add(rng.Pick(kShopKinds));
  } else if (type == "93") {
    name->Add(rng.Pick(kCoopKinds));
  } else if (type == "52") {
    name->Add(rng.Pick(kSchoolKinds));
  } else {
    name->Add(rng.Pick(kCompanyKinds));
  }
}

void MakeOrganization(uint64_t seed, uint64_t index, Rng& rng, Organization* org) {
  org->area = static_cast<int>(rng.Below(kAreaCount));
  org->relations_by_org_code = rng.Chance(20000);
  const bool bare = rng.Chance(30000);  // older organisations, listed by organisation code
  const uint32_t r = rng.Below(100);
  // 91 enterprise, 92 individual business, 93 farmers' cooperative, 52 private non-enterprise.
  const std::string_view type = bare ? "91" : r < 88 ? "91" : r < 93 ? "92" : r < 97 ? "93" : "52";
  MakeOrgName(rng, type, kAreas[org->area], &org->name);
  char code[9];
  MakeOrgCode(seed, index, !bare && rng.Chance(300000), code);
  if (bare) {
    org->kind = IdKind::kOrgCode;
    org->id_size = 9;
    std::memcpy(org->id, code, 9);
    return;
  }
  org->kind = IdKind::kCreditCode;
  org->id_size = 18;
  std::memcpy(org->id, type.data(), 2);
  std::memcpy(org->id + 2, kAreas[org->area].code.data(), 6);
  std::memcpy(org->id + 8, code, 9);
  org->id[17] = CreditCodeCheckChar(std::string_view(org->id, 17));
}

// ---------------------------------------------------------------------------------------------
// Courts and cases.

const std::array<std::vector<uint8_t>, kAreaCount>& CourtsByArea() {
  static const auto* table = [] {
    auto* t = new std::array<std::vector<uint8_t>, kAreaCount>;
    for (int a = 0; a < kAreaCount; ++a) {
      const int province = (kAreas[a].code[0] - '0') * 10 + (kAreas[a].code[1] - '0');
      for (int c = 0; c < kCourtCount; ++c) {
        if (kCourts[c].province == province) (*t)[a].push_back(static_cast<uint8_t>(c));
      }
    }
    return t;
  }();
  return *table;
}

// Most cases are filed where the debtor lives.
int PickCourt(Rng& rng, int area) {
  const std::vector<uint8_t>& local = CourtsByArea()[area];
  if (local.empty() || rng.Chance(150000)) return static_cast<int>(rng.Below(kCourtCount));
  return local[rng.Below(static_cast<uint32_t>(local.size()))];
}

// Geometric with a long tail: persons average ~1.4 cases, organisations ~2.7; a few heavy
// defaulters have 20-67 (the national maximum).
int CaseCount(Rng& rng, bool person) {
  if (rng.Chance(person ? 200 : 1500)) return 20 + static_cast<int>(rng.Below(48));
  const uint32_t another = person ? 281400 : 621000;  // per million; mean = 1 / (1 - p)
  int n = 1;
  while (n < 67 && rng.Chance(another)) ++n;
  return n;
}

bool IsIntermediate(const Court& court) { return court.code.size() == 5; }

template <size_t kCap>
void AddOpen(Rng& rng, int year, Text<kCap>* out) {
  const bool full_width = rng.Below(2) == 0;
  out->Add(full_width ? "（" : "(");
  out->AddUint(static_cast<uint64_t>(year));
  out->Add(full_width ? "）" : ")");
}

// "（2019）黑04执123号", "(2021)浙0111执恢286号", before 2016 also "(2014)鹤中法执字第00232号".
void MakeCaseCode(Rng& rng, const Court& court, int year, Text<64>* out) {
  out->Clear();
  AddOpen(rng, year, out);
  if (year <= 2015 && rng.Chance(500000)) {
    out->Add(court.abbr);
    out->Add("执字第");
    out->AddUint(1 + rng.Below(3000), 5);
  } else {
    out->Add(court.code);
    out->Add(rng.Chance(150000) ? "执恢" : "执");
    out->AddUint(1 + rng.Below(IsIntermediate(court) ? 600 : 6000));
  }
  out->Add("号");
}

// The judgment the enforcement rests on: "(2018)黑0402民初1234号".
void MakeGistId(Rng& rng, const Court& court, int year, Text<64>* out) {
  out->Clear();
  const int gist_year = year - static_cast<int>(rng.Below(3));
  AddOpen(rng, gist_year, out);
  const uint32_t r = rng.Below(100);
  std::string_view type = IsIntermediate(court) ? (r < 70   ? "民终"
                                                   : r < 90 ? "民初"
                                                            : "刑初")
                                                : (r < 85   ? "民初"
                                                   : r < 93 ? "民特"
                                                            : "刑初");
  if (gist_year <= 2015) {
    out->Add(court.abbr);
    out->Add(type);
    out->Add("字第");
  } else {
    out->Add(court.code);
    out->Add(type);
  }
  out->AddUint(1 + rng.Below(8000));
  out->Add("号");
}

// Roughly log-uniform from 100 yuan to ten million, in round figures.
void AddAmount(Rng& rng, Text<512>* out) {
  uint64_t amount = 10 + rng.Below(90);
  for (uint32_t zeros = 1 + rng.Below(5); zeros > 0; --zeros) amount *= 10;
  if (amount % 10000 == 0 && rng.Chance(500000)) {
    out->AddUint(amount / 10000);
    out->Add("万元");
  } else {
    out->AddUint(amount);
    out->Add("元");
  }
}

void AddPlaintiff(Rng& rng, Plaintiff kind, const Area& area, uint64_t seed, Text<512>* out) {
  if (kind == kAnyPlaintiff) kind = static_cast<Plaintiff>(1 + rng.Below(3));
  if (kind == kBankPlaintiff) {
    out->Add(rng.Pick(kBanks));
    out->Add(area.city);
    out->Add("分行");
  } else if (kind == kCompanyPlaintiff) {
    Text<96> name;
    MakeOrgName(rng, "91", area, &name);
    out->Add(name.view());
  } else {
    Text<16> name;
    MakePersonName(Mix(rng.Next() ^ seed), &name);
    out->Add(name.view());
  }
}

void MakeDuty(Rng& rng, std::string_view debtor, const Area& area, uint64_t seed, Text<512>* out) {
  out->Clear();
  const DutyTemplate& t = rng.Pick(kDuties);
  out->Add(t.a);
  out->Add(debtor);
  out->Add(t.b);
  AddPlaintiff(rng, t.plaintiff, area, seed, out);
  out->Add(t.c);
  AddAmount(rng, out);
  out->Add(t.d);
  // Some judgments have several numbered items: the feed keeps the line breaks.
  if (CountChars(out->view()) <= 55 && rng.Chance(50000)) {
    out->Add("；\n案件受理费");
    out->AddUint(50 + rng.Below(5000));
    out->Add("元由被告负担");
  }
}

void MakeDisruptTypes(Rng& rng, Text<256>* out) {
  out->Clear();
  const int count = rng.Chance(200000) ? (rng.Chance(150000) ? 3 : 2) : 1;
  uint32_t used = 0;
  for (int n = 0; n < count;) {
    uint32_t r = rng.Below(1000);
    int g = 0;
    while (r >= kGrounds[g].weight) r -= kGrounds[g++].weight;
    if (used & (1u << g)) continue;
    used |= 1u << g;
    if (n++ > 0) out->Add(",");
    out->Add(kGrounds[g].text);
  }
}

// ---------------------------------------------------------------------------------------------
// The generator.

struct Slot {
  uint64_t person;  // person number
  Role role;
};
constexpr int kMaxSlots = 12;

class Generator {
 public:
  Generator(const SyntheticOptions& options, absl::FunctionRef<void(const CaseInput&)> on_case,
            absl::FunctionRef<void(const RelationInput&)> on_relation)
      : seed_(options.seed),
        subjects_(std::min(options.subjects, kMaxSubjects)),
        on_case_(on_case),
        on_relation_(on_relation) {}

  SyntheticStats Run() {
    for (uint64_t i = 0; i < subjects_; ++i) {
      Rng rng(Hash(seed_, kSubjectStream, i));
      if (IsListedPerson(seed_, i)) {
        GeneratePerson(i, rng);
      } else {
        GenerateOrganization(i, rng);
      }
    }
    stats_.subjects = subjects_;
    return stats_;
  }

 private:
  // Unlisted persons shared between organisations are drawn from the most recent ones.
  static constexpr uint64_t kSharedWindow = 50000;

  void GeneratePerson(uint64_t index, Rng& rng) {
    ++stats_.persons;
    Person p;
    MakePerson(seed_, index, &p);
    const Id id = MakeIdUnchecked(IdKind::kResident, std::string_view(p.id, 18));
    // Listed as an adult: every day of the first case year is after the 18th birthday.
    const int min_year = std::max(2014, static_cast<int>(p.birth / 10000) + 19);
    EmitCases(rng, id, p.name.view(), "", p.area, min_year, &p);
  }

  void GenerateOrganization(uint64_t index, Rng& rng) {
    ++stats_.organizations;
    Organization org;
    MakeOrganization(seed_, index, rng, &org);
    Slot slots[kMaxSlots];
    const int n = PlanRelations(rng, slots);
    Person people[kMaxSlots];
    for (int s = 0; s < n; ++s) MakePerson(seed_, slots[s].person, &people[s]);
    const Id id = MakeIdUnchecked(org.kind, std::string_view(org.id, org.id_size));
    // Slot 0 is the legal representative, whom the court's record names.
    EmitCases(rng, id, org.name.view(), people[0].name.view(), org.area, 2014, nullptr);

    const Id rel_org =
        org.relations_by_org_code && org.kind == IdKind::kCreditCode ? id.EmbeddedOrgCode() : id;
    for (int s = 0; s < n; ++s) {
      RelationInput rel;
      rel.org = rel_org;
      rel.person = MakeIdUnchecked(IdKind::kResident, std::string_view(people[s].id, 18));
      rel.person_name = people[s].name.view();
      rel.role = slots[s].role;
      on_relation_(rel);
      ++stats_.relations;
    }
  }

  // Exactly one legal representative, then the other roles at realistic rates (~3 in all).
  int PlanRelations(Rng& rng, Slot* slots) {
    int n = 0;
    const uint64_t lr = PickPerson(rng);
    auto add = [&](uint64_t person, Role role) {
      for (int s = 0; s < n; ++s) {
        if (slots[s].person == person && slots[s].role == role) return;
      }
      slots[n++] = {person, role};
    };
    add(lr, Role::kLegalRepresentative);
    // The principal and the actual controller are often the legal representative himself.
    if (rng.Chance(550000)) add(rng.Chance(600000) ? lr : PickPerson(rng), Role::kPrincipal);
    if (rng.Chance(280000)) {
      add(rng.Chance(300000) ? lr : PickPerson(rng), Role::kActualController);
    }
    if (rng.Chance(350000)) add(PickPerson(rng), Role::kDirectlyResponsible);
    if (rng.Chance(220000)) {
      const int directors = 1 + static_cast<int>(rng.Below(3));
      for (int d = 0; d < directors; ++d) {
        add(d == 0 && rng.Chance(400000) ? lr : PickPerson(rng), Role::kDirector);
      }
    }
    if (rng.Chance(220000)) add(PickPerson(rng), Role::kSupervisor);
    if (rng.Chance(180000)) {
      const int managers = 1 + static_cast<int>(rng.Below(2));
      for (int m = 0; m < managers; ++m) add(PickPerson(rng), Role::kSeniorManager);
    }
    return n;
  }

  // ~15 % a listed person, a few % an unlisted person already related to another
  // organisation, otherwise a fresh unlisted person (numbers from `subjects_` on).
  uint64_t PickPerson(Rng& rng) {
    const uint32_t r = rng.Below(1000000);
    if (r < 150000) {
      for (int attempt = 0; attempt < 16; ++attempt) {
        const uint64_t j = rng.Below64(subjects_);
        if (IsListedPerson(seed_, j)) return j;
      }
    } else if (r < 150000 + 45000 && fresh_ > 0) {
      return subjects_ + fresh_ - 1 - rng.Below64(std::min(fresh_, kSharedWindow));
    }
    return subjects_ + fresh_++;
  }

  void EmitCases(Rng& rng, const Id& id, std::string_view name, std::string_view entity, int area,
                 int min_year, const Person* person) {
    const int count = CaseCount(rng, person != nullptr);
    const int home = PickCourt(rng, area);
    CaseInput c;
    c.id = id;
    c.name = name;
    c.business_entity = entity;
    c.performed_part = "暂无";
    c.unperform_part = "暂无";
    for (int k = 0; k < count; ++k) {
      const Court& court = kCourts[rng.Chance(750000) ? home : PickCourt(rng, area)];
      const int year =
          min_year + static_cast<int>(rng.Below(static_cast<uint32_t>(2025 - min_year)));
      const int64_t jan1 = DaysFromCivil(year, 1, 1);
      const int64_t reg =
          jan1 + rng.Below(static_cast<uint32_t>(DaysFromCivil(year + 1, 1, 1) - jan1));
      c.reg_date = CivilFromDays(reg);
      c.publish_date = CivilFromDays(reg + 15 + rng.Below(350));
      MakeCaseCode(rng, court, year, &case_code_);
      MakeGistId(rng, court, year, &gist_id_);
      MakeDuty(rng, name, kAreas[area], seed_, &duty_);
      MakeDisruptTypes(rng, &disrupt_);
      c.case_code = case_code_.view();
      c.court = court.name;
      c.area = court.region;
      c.gist_id = gist_id_.view();
      c.gist_unit = court.name;
      c.duty = duty_.view();
      c.performance = rng.Chance(880000) ? "全部未履行" : "部分未履行";
      c.disrupt_type = disrupt_.view();
      if (person != nullptr) {
        c.age = AgeAt(person->birth, c.publish_date);
        c.sex = static_cast<Sex>(person->sex);
      }
      on_case_(c);
      ++stats_.cases;
    }
  }

  const uint64_t seed_;
  const uint64_t subjects_;
  absl::FunctionRef<void(const CaseInput&)> on_case_;
  absl::FunctionRef<void(const RelationInput&)> on_relation_;
  uint64_t fresh_ = 0;  // unlisted persons issued so far
  SyntheticStats stats_;
  Text<64> case_code_;
  Text<64> gist_id_;
  Text<512> duty_;
  Text<256> disrupt_;
};

// ---------------------------------------------------------------------------------------------
// Output: a 1 MiB buffer per file and hand-written JSON.

class OutFile {
 public:
  static constexpr size_t kBufferSize = 1 << 20;

  OutFile() : buffer_(new char[kBufferSize]) {}
  ~OutFile() {
    if (file_ != nullptr) std::fclose(file_);
  }

  absl::Status Open(const std::string& path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
    return absl::OkStatus();
  }

  void Add(std::string_view s) {
    if (size_ + s.size() > kBufferSize) Flush();
    if (s.size() > kBufferSize) return Write(s.data(), s.size());
    std::memcpy(buffer_.get() + size_, s.data(), s.size());
    size_ += s.size();
  }

  // Adds `s` as the inside of a JSON string.
  void AddEscaped(std::string_view s) {
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      Add(s.substr(start, i - start));
      AddEscape(c);
      start = i + 1;
    }
    Add(s.substr(start));
  }

  // Adds `,"key":"value"` (without the comma when `first`).
  void AddField(std::string_view key, std::string_view value, bool first = false) {
    Add(first ? "{\"" : ",\"");
    Add(key);
    Add("\":\"");
    AddEscaped(value);
    Add("\"");
  }

  // Flushes and closes; reports any write error seen since Open().
  absl::Status Close() {
    Flush();
    if (file_ != nullptr && std::fclose(file_) != 0 && error_ == 0) error_ = errno;
    file_ = nullptr;
    if (error_ != 0) return absl::ErrnoToStatus(error_, absl::StrCat("cannot write ", path_));
    return absl::OkStatus();
  }

 private:
  void AddEscape(unsigned char c) {
    switch (c) {
      case '"':
        return Add("\\\"");
      case '\\':
        return Add("\\\\");
      case '\n':
        return Add("\\n");
      case '\r':
        return Add("\\r");
      case '\t':
        return Add("\\t");
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        return Add(std::string_view(u, 6));
      }
    }
  }

  void Flush() {
    Write(buffer_.get(), size_);
    size_ = 0;
  }

  // After the first error the rest is dropped: the caller sees the error at Close().
  void Write(const char* data, size_t n) {
    if (error_ != 0 || n == 0) return;
    if (std::fwrite(data, 1, n, file_) != n) error_ = errno != 0 ? errno : EIO;
  }

  std::string path_;
  FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;
  size_t size_ = 0;
  int error_ = 0;
};

void WriteCase(const CaseInput& c, OutFile* out) {
  const bool person = c.id.subject_kind() == SubjectKind::kPerson;
  Text<32> text;
  out->AddField("caseCode", c.case_code, /*first=*/true);
  out->AddField("iname", c.name);
  out->AddField("cardNum", c.id.text());
  out->AddField("partyTypeName", person ? "0" : "1");
  out->AddField("businessEntity", c.business_entity);
  out->AddField("courtName", c.court);
  out->AddField("areaName", c.area);
  out->AddField("gistId", c.gist_id);
  out->AddField("gistUnit", c.gist_unit);
  text.AddUint(c.reg_date, 8);
  out->AddField("regDate", text.view());
  text.Clear();
  text.AddUint(c.publish_date / 10000, 4);
  text.Add("年");
  text.AddUint(c.publish_date / 100 % 100, 2);
  text.Add("月");
  text.AddUint(c.publish_date % 100, 2);
  text.Add("日");
  out->AddField("publishDate", text.view());
  out->AddField("duty", c.duty);
  out->AddField("performance", c.performance);
  out->AddField("performedPart", c.performed_part);
  out->AddField("unperformPart", c.unperform_part);
  out->AddField("disruptTypeName", c.disrupt_type);
  text.Clear();
  text.AddUint(c.age);
  out->AddField("age", text.view());
  out->AddField("sexy", c.sex == Sex::kMale ? "男性" : c.sex == Sex::kFemale ? "女性" : "");
  out->Add("}\n");
}

void WriteRelation(const RelationInput& r, OutFile* out) {
  out->AddField("orgId", r.org.text(), /*first=*/true);
  out->AddField("personId", r.person.text());
  out->AddField("personName", r.person_name);
  out->AddField("role", RoleName(r.role));
  out->Add("}\n");
}

}  // namespace

SyntheticStats GenerateSynthetic(const SyntheticOptions& options,
                                 absl::FunctionRef<void(const CaseInput&)> on_case,
                                 absl::FunctionRef<void(const RelationInput&)> on_relation) {
  return Generator(options, on_case, on_relation).Run();
}

absl::StatusOr<SyntheticStats> WriteSyntheticDataSet(const SyntheticOptions& options,
                                                     const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::string debtors = dir + "/debtors.ndjson";
  const std::string relations = dir + "/relations.ndjson";
  // Temporary names until complete, so a partial file never sits under the final name.
  const std::string debtors_tmp = debtors + ".tmp";
  const std::string relations_tmp = relations + ".tmp";
  OutFile case_out;
  OutFile relation_out;
  absl::Status status = case_out.Open(debtors_tmp);
  if (status.ok()) status = relation_out.Open(relations_tmp);
  SyntheticStats stats;
  if (status.ok()) {
    stats = GenerateSynthetic(
        options, [&](const CaseInput& c) { WriteCase(c, &case_out); },
        [&](const RelationInput& r) { WriteRelation(r, &relation_out); });
  }
  absl::Status closed = case_out.Close();
  if (status.ok()) status = closed;
  closed = relation_out.Close();
  if (status.ok()) status = closed;
  if (status.ok() && (std::rename(debtors_tmp.c_str(), debtors.c_str()) != 0 ||
                      std::rename(relations_tmp.c_str(), relations.c_str()) != 0)) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot rename files in ", dir));
  }
  if (!status.ok()) {
    std::remove(debtors_tmp.c_str());
    std::remove(relations_tmp.c_str());
    return status;
  }
  return stats;
}

}  // namespace shixin
