package answer

import (
	"sort"
	"testing"
)

// Held-out evaluation of the FAQ matcher (issue #11, "Questions").
//
// Goal: at least 92% of held-out phrasings right (off-topic rows count as
// right when they reach no topic), and at most 1 in 20 off-topic questions
// given a topic. A topic of "" means: no topic (off-topic question).
//
// Which table is which:
//
//   - heldOut and heldOut2 are held-out tables, each written in one sitting
//     before the matcher round it measures, and never edited after seeing
//     results. A held-out table is spent once its misses have been seen:
//     its later numbers no longer measure new phrasings.
//   - realPhrasings and offTopic (faq_test.go) and tuningPhrasings
//     (tuning_test.go) are development data: tuning looks at their misses.
//
// Measurements (right / all rows; off-topic rows given a topic):
//
//	                    heldOut (102, 24 off)   heldOut2 (89, 22 off)
//	original matcher    72 = 70.6%;  2/24       68 = 76.4%; 2/22
//	after round 1       87 = 85.3%;  0/24 (*)   76 = 85.4%; 1/22
//	after round 2       spent, tuned on         76 = 85.4%; 1/22 (*)
//
//	                    heldOut3 (115, 27 off)
//	before round 3      96 = 83.5%; 1/27 (baseline)
//	after round 3      107 = 93.0%; 1/27 (*)
//
// Round 3: a concept layer (concepts.go: parent, phone, lapse, immobile,
// employer, ... in all four languages; questions and keywords scored on
// concepts, keywords also matched in concept form), and intent rules for
// consequences, channels, certifying again, employers, the card, data,
// requests for money, and the person's condition (intent.go). Tuned on
// the spent tables and the tuning batches, including a fourth batch
// (tuning_test.go). Caveats on the round-3 number, which is therefore
// optimistic: the baseline run printed heldOut3's 19 misses, which were
// seen before round 3 was written (the rules were not written from them,
// but they were not unseen); and two heldOut3 rows are near-copies of
// tuning rows ("do you store my face"; the WeChat fee scam). On the
// fourth tuning batch's off-topic questions built from the concepts' words
// the off-topic goal is not met (4 of 23; the original matcher: 5).
// heldOut3 is now spent too.
//
// (*) the held-out measurement of that round. Round 1: per-language stop
// words, stricter typo tolerance, intent cues, keywords from the first two
// tuning batches. Round 2: status and law-to-payment intent rules, ages as
// numbers, keywords from the third tuning batch and from heldOut (spent).
// The accuracy goal was not reached on either table: round 2 improved the
// development data but not new phrasings. Both tables are now spent; the
// next round needs a new held-out table, ideally written by someone else.
var heldOut = []phrasing{
	// Simplified Chinese
	{"zh-Hans", "认证需要带什么证件", "howto"},
	{"zh-Hans", "养老认证要准备哪些材料", "howto"},
	{"zh-Hans", "儿子能帮我做认证吗", "family"},
	{"zh-Hans", "我闺女说她可以在她手机上帮我认证 是真的吗", "family"},
	{"zh-Hans", "养老金认证是啥意思", "certification"},
	{"zh-Hans", "今年的认证怎么弄啊", "howto"},
	{"zh-Hans", "上个月养老金没发", "late"},
	{"zh-Hans", "刷了好几次脸都说不是本人", "face"},
	{"zh-Hans", "我妈瘫痪在床 能不能派人来家里", "homevisit"},
	{"zh-Hans", "我爷爷95了 办事能优先吗", "priority"},
	{"zh-Hans", "社保卡丢了要去哪里补", "card"},
	{"zh-Hans", "没单位了社保怎么自己交", "payment"},
	{"zh-Hans", "缴费年限不够15年怎么办", "minyears"},
	{"zh-Hans", "有人冒充社保局打电话要我转钱", "scam"},
	{"zh-Hans", "我的身份证照片你们存多久", "privacy"},
	{"zh-Hans", "怎么看我认证有没有通过", "status"},
	{"zh-Hans", "单位和个人各交多少养老保险", "law"},
	{"zh-Hans", "认证晚了钱还补不补", "late"},
	{"zh-Hans", "用微信怎么认证养老金", "howto"},
	{"zh-Hans", "认证过期时间在哪看", "status"},
	// Traditional Chinese
	{"zh-Hant", "認證要帶什麼文件", "howto"},
	{"zh-Hant", "我兒子可以幫我認證嗎", "family"},
	{"zh-Hant", "養老金資格認證是做什麼用的", "certification"},
	{"zh-Hant", "怎麼在手機上做年審", "howto"},
	{"zh-Hant", "這個月退休金沒有匯進來", "late"},
	{"zh-Hant", "刷臉一直說光線不足", "face"},
	{"zh-Hant", "我爸中風躺床 能請人到家裡認證嗎", "homevisit"},
	{"zh-Hant", "身障人士有沒有優先窗口", "priority"},
	{"zh-Hant", "社保卡壞掉了要怎麼換", "card"},
	{"zh-Hant", "自由業要怎麼繳社保", "payment"},
	{"zh-Hant", "要繳幾年社保退休才有錢領", "minyears"},
	{"zh-Hant", "有人傳簡訊說要我付手續費才能領養老金", "scam"},
	{"zh-Hant", "你們會把我的身分證號碼存起來嗎", "privacy"},
	{"zh-Hant", "我認證成功了沒", "status"},
	{"zh-Hant", "法律有規定老闆一定要幫我繳嗎", "law"},
	{"zh-Hant", "認證需要準備什麼", "howto"},
	{"zh-Hant", "女兒幫媽媽認證可以嗎", "family"},
	{"zh-Hant", "忘記年審了 養老金被停", "late"},
	// English
	{"en", "what documents do i need for the certification", "howto"},
	{"en", "what do I need to bring to certify", "howto"},
	{"en", "can my son do it for me", "family"},
	{"en", "can my daughter certify for her mother", "family"},
	{"en", "my parents are old can i do the pension check for them from abroad", "family"},
	{"en", "how do i do the yearly check", "howto"},
	{"en", "what is this annual pension thing about", "certification"},
	{"en", "pension not in my bank account this month", "late"},
	{"en", "it keeps saying face does not match my id photo", "face"},
	{"en", "my grandad cant get out of bed anymore how does he certify", "homevisit"},
	{"en", "my mother is 88 is there a priority line", "priority"},
	{"en", "i lost my social security card what do i do", "card"},
	{"en", "im self employed how do i pay into my pension", "payment"},
	{"en", "how many years of contributions to get pension", "minyears"},
	{"en", "got a text message saying my pension will be cancelled unless i click a link", "scam"},
	{"en", "what happens to my photos after", "privacy"},
	{"en", "how do i check if im certified", "status"},
	{"en", "does my employer have to pay for my pension", "law"},
	{"en", "i certifed late will i still get paid for the months i missed", "late"},
	{"en", "steps to certify pension", "howto"},
	// Spanish
	{"es", "que papeles necesito para la certificacion", "howto"},
	{"es", "que documentos hay que llevar para certificarse", "howto"},
	{"es", "¿puede mi hijo hacerlo por mí?", "family"},
	{"es", "mi hija me puede hacer el tramite", "family"},
	{"es", "puedo hacer la fe de vida de mi madre desde mi telefono", "family"},
	{"es", "como se hace la fe de vida", "howto"},
	{"es", "para que sirve la certificacion anual", "certification"},
	{"es", "no me han pagado la jubilacion este mes", "late"},
	{"es", "la camara no reconoce mi cara", "face"},
	{"es", "mi padre esta postrado en la cama, pueden venir a casa a hacerlo", "homevisit"},
	{"es", "tengo 92 años me atienden antes", "priority"},
	{"es", "se me rompio la tarjeta de la seguridad social", "card"},
	{"es", "soy autonomo como pago la seguridad social", "payment"},
	{"es", "cuantos años hay que cotizar minimo", "minyears"},
	{"es", "me llego un mensaje que pide mi clave del banco", "scam"},
	{"es", "que hacen con mis fotos", "privacy"},
	{"es", "como veo si ya estoy certificado", "status"},
	{"es", "la empresa tiene que pagar mi pension por ley", "law"},
	{"es", "me olvide de certificar el año pasado", "late"},
	{"es", "certificasion por el telefono como es", "howto"},

	// Off-topic: prices, weather, football, recipes, medical questions.
	{"en", "how much is a kilo of pork at the market", ""},
	{"en", "what's the price of gold today", ""},
	{"en", "will it rain tomorrow", ""},
	{"en", "who won the world cup", ""},
	{"en", "how do i make dumplings", ""},
	{"en", "my knee hurts when i walk what should i take", ""},
	{"en", "what time does the bank open on saturday", ""},
	{"zh-Hans", "猪肉多少钱一斤", ""},
	{"zh-Hans", "明天北京天气咋样", ""},
	{"zh-Hans", "今晚有什么足球比赛", ""},
	{"zh-Hans", "红烧肉怎么做", ""},
	{"zh-Hans", "高血压吃什么药好", ""},
	{"zh-Hans", "去医院挂号怎么挂", ""},
	{"zh-Hant", "今天菜價多少", ""},
	{"zh-Hant", "颱風什麼時候來", ""},
	{"zh-Hant", "中華隊今天比賽贏了嗎", ""},
	{"zh-Hant", "牛肉麵怎麼煮", ""},
	{"zh-Hant", "膝蓋痛要看哪一科", ""},
	{"es", "cuanto cuesta el kilo de tomates", ""},
	{"es", "que tiempo hace mañana en madrid", ""},
	{"es", "a que hora juega el madrid", ""},
	{"es", "como se hace una tortilla de patatas", ""},
	{"es", "que puedo tomar para el dolor de cabeza", ""},
	{"es", "precio de la gasolina hoy", ""},
}

// heldOut2 was written after heldOut had been spent, before round 2.
var heldOut2 = []phrasing{
	{"zh-Hans", "养老金年审是怎么回事", "certification"},
	{"zh-Hans", "不认证会怎么样", "late"},
	{"zh-Hans", "在银行能办认证吗", "howto"},
	{"zh-Hans", "认证要本人去吗", "howto"},
	{"zh-Hans", "我爸的养老金被停了", "late"},
	{"zh-Hans", "刷脸的时候要干什么", "face"},
	{"zh-Hans", "人脸识别老说光线太暗", "face"},
	{"zh-Hans", "我外婆八十九了 腿脚不好 能不能上门认证", "homevisit"},
	{"zh-Hans", "残疾人认证有没有快的办法", "priority"},
	{"zh-Hans", "社保卡在哪里办", "card"},
	{"zh-Hans", "没工作了养老保险怎么续交", "payment"},
	{"zh-Hans", "交多少年社保才能领退休金", "minyears"},
	{"zh-Hans", "收到短信说要认证 让我点链接填银行卡", "scam"},
	{"zh-Hans", "你们要我的身份证干什么 安全吗", "privacy"},
	{"zh-Hans", "今年还用认证吗", "status"},
	{"zh-Hans", "我女儿在外地 她能帮我认证吗", "family"},
	{"zh-Hans", "养老保险单位交多少个人交多少", "law"},
	{"zh-Hans", "西红柿炒鸡蛋怎么做", ""},
	{"zh-Hans", "糖尿病能吃西瓜吗", ""},
	{"zh-Hans", "这周末会降温吗", ""},
	{"zh-Hans", "世界杯谁是冠军", ""},
	{"zh-Hans", "金价今天多少", ""},
	{"zh-Hans", "小区附近哪里有超市", ""},
	{"zh-Hant", "年審到底要做什麼", "certification"},
	{"zh-Hant", "在哪裡可以做認證", "howto"},
	{"zh-Hant", "養老金突然停了", "late"},
	{"zh-Hant", "刷臉過不了", "face"},
	{"zh-Hant", "我媽住在安養院 能不能派人來認證", "homevisit"},
	{"zh-Hant", "八十幾歲可以優先辦嗎", "priority"},
	{"zh-Hant", "社保卡怎麼申請 要帶什麼", "card"},
	{"zh-Hant", "個人怎麼繳養老保險", "payment"},
	{"zh-Hant", "繳費不滿十五年可以領嗎", "minyears"},
	{"zh-Hant", "有人打電話說要我提供驗證碼", "scam"},
	{"zh-Hant", "我的資料你們會保留多久", "privacy"},
	{"zh-Hant", "怎麼查我有沒有認證", "status"},
	{"zh-Hant", "兒子能不能替我做年審", "family"},
	{"zh-Hant", "公司不幫我繳社保怎麼辦", "law"},
	{"zh-Hant", "太晚認證會不會少拿錢", "late"},
	{"zh-Hant", "今天天氣好不好", ""},
	{"zh-Hant", "珍珠奶茶怎麼做", ""},
	{"zh-Hant", "頭痛吃什麼藥比較好", ""},
	{"zh-Hant", "高鐵票多少錢", ""},
	{"zh-Hant", "昨天棒球誰贏", ""},
	{"en", "whats the point of the annual certification", "certification"},
	{"en", "where do i do the pension certification", "howto"},
	{"en", "do i need to go to an office to certify", "howto"},
	{"en", "my pension was stopped what should i do", "late"},
	{"en", "its been 3 months with no pension", "late"},
	{"en", "the app cant recognize my face", "face"},
	{"en", "face recognition fails because of my glasses", "face"},
	{"en", "my father had a stroke and cant leave the house", "homevisit"},
	{"en", "is there a fast track for people over 85", "priority"},
	{"en", "how do i get a new social security card", "card"},
	{"en", "where can i pay my social insurance myself", "payment"},
	{"en", "whats the minimum number of years to get a pension", "minyears"},
	{"en", "someone on the phone wants my sms code", "scam"},
	{"en", "will you delete my id photo", "privacy"},
	{"en", "when do i have to certify next", "status"},
	{"en", "can my son help me do the certification", "family"},
	{"en", "my grandaughter wants to do it for me", "family"},
	{"en", "does the company pay part of my pension", "law"},
	{"en", "how much are eggs at the supermarket", ""},
	{"en", "what will the weather be on sunday", ""},
	{"en", "when is the next football game", ""},
	{"en", "how to bake bread", ""},
	{"en", "what can i take for a cold", ""},
	{"en", "price of a train ticket to shanghai", ""},
	{"es", "que es eso de la certificacion de supervivencia", "certification"},
	{"es", "donde tengo que ir para la fe de vida", "howto"},
	{"es", "se puede certificar por el banco", "howto"},
	{"es", "me cortaron la pension", "late"},
	{"es", "no me llega la jubilacion desde enero", "late"},
	{"es", "la app no me reconoce", "face"},
	{"es", "mi abuela no puede salir de casa, como se certifica", "homevisit"},
	{"es", "hay atencion rapida para discapacitados", "priority"},
	{"es", "como pido una tarjeta nueva de la seguridad social", "card"},
	{"es", "donde pago el seguro social si soy autonomo", "payment"},
	{"es", "cuantos años tengo que haber cotizado", "minyears"},
	{"es", "me llamo alguien pidiendo el codigo del sms", "scam"},
	{"es", "borran mi foto despues de certificar", "privacy"},
	{"es", "como se si estoy certificado", "status"},
	{"es", "mi hija puede hacer la certificacion por mi", "family"},
	{"es", "mi hijo vive lejos puede ayudarme con la fe de vida", "family"},
	{"es", "quien tiene que pagar la cotizacion el trabajador o la empresa", "law"},
	{"es", "cuanto cuesta un kilo de naranjas", ""},
	{"es", "hace frio mañana", ""},
	{"es", "quien gano la liga", ""},
	{"es", "como se hace el arroz con leche", ""},
	{"es", "tengo fiebre que tomo", ""},
}

// evalResult is the outcome of matching a set of phrasings.
type evalResult struct {
	right, total     int // all rows, on-topic and off-topic
	offWrong, offAll int // off-topic rows given a topic, off-topic rows
	perLang          map[string][2]int
}

func (r evalResult) accuracy() float64 { return float64(r.right) / float64(r.total) }
func (r evalResult) offRate() float64  { return float64(r.offWrong) / float64(r.offAll) }

// evaluate matches every phrasing and logs the misses.
func evaluate(t *testing.T, f *FAQ, set []phrasing) evalResult {
	t.Helper()
	r := evalResult{perLang: map[string][2]int{}}
	for _, p := range set {
		got, s := f.Match(p.lang, p.question)
		c := r.perLang[p.lang]
		c[1]++
		r.total++
		if p.topic == "" {
			r.offAll++
			if got != "" {
				r.offWrong++
			}
		}
		if got == p.topic {
			r.right++
			c[0]++
		} else {
			t.Logf("miss [%s] %q: got %q (score %.2f), want %q", p.lang, p.question, got, s, p.topic)
		}
		r.perLang[p.lang] = c
	}
	langs := make([]string, 0, len(r.perLang))
	for l := range r.perLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		t.Logf("%-8s %d/%d", l, r.perLang[l][0], r.perLang[l][1])
	}
	t.Logf("accuracy %d/%d = %.1f%%; off-topic given a topic: %d/%d = %.1f%%",
		r.right, r.total, 100*r.accuracy(), r.offWrong, r.offAll, 100*r.offRate())
	return r
}

// Goals of issue #11 on held-out phrasings.
const (
	heldOutGoalAccuracy = 0.92 // share of all rows answered right
	heldOutMaxOffRate   = 0.05 // at most 1 in 20 off-topic questions given a topic
)

// heldOutFloor is the accuracy measured on heldOut2 when it was last
// unseen (85.4%), rounded down: the goal above was NOT reached, and this
// floor only guards against a regression. Raise it when a new held-out
// table is measured; do not lower it to make a change pass.
const heldOutFloor = 0.85

// checkHeldOut checks a held-out table's shape and the goals of issue #11:
// the off-topic goal is asserted; the accuracy goal is reported, and the
// measured floor asserted.
func checkHeldOut(t *testing.T, name string, set []phrasing) {
	t.Helper()
	checkHeldOutFloor(t, name, set, heldOutFloor)
}

// checkHeldOutFloor is checkHeldOut with the table's own measured floor.
func checkHeldOutFloor(t *testing.T, name string, set []phrasing, floor float64) {
	t.Helper()
	f := newTestFAQ(t)
	r := evaluate(t, f, set)
	if r.total < 80 || r.offAll < 20 {
		t.Errorf("%s has %d rows (%d off-topic), want at least 80 (20)", name, r.total, r.offAll)
	}
	for _, l := range []string{"zh-Hans", "zh-Hant", "en", "es"} {
		if r.perLang[l][1] < 15 {
			t.Errorf("%s has %d rows in %s, want at least 15", name, r.perLang[l][1], l)
		}
	}
	if r.offRate() > heldOutMaxOffRate {
		t.Errorf("%s: %d of %d off-topic questions given a topic (%.1f%%), want at most %.0f%%",
			name, r.offWrong, r.offAll, 100*r.offRate(), 100*heldOutMaxOffRate)
	}
	if r.accuracy() < heldOutGoalAccuracy {
		t.Logf("%s: accuracy %.1f%% is short of the %.0f%% goal", name, 100*r.accuracy(), 100*heldOutGoalAccuracy)
	} else {
		t.Logf("%s: accuracy %.1f%% meets the %.0f%% goal", name, 100*r.accuracy(), 100*heldOutGoalAccuracy)
	}
	if r.accuracy() < floor {
		t.Errorf("%s: accuracy %.1f%% fell below the measured %.0f%%", name, 100*r.accuracy(), 100*floor)
	}
}

// TestFAQHeldOut measures heldOut. It is spent (tuned on since round 1), so
// its number here is a regression check, not a held-out measurement.
func TestFAQHeldOut(t *testing.T) { checkHeldOut(t, "heldOut (spent)", heldOut) }

// TestFAQHeldOut2 measures heldOut2, the table of the round-2 held-out
// measurement. Spent since: see the table at the top.
func TestFAQHeldOut2(t *testing.T) { checkHeldOut(t, "heldOut2", heldOut2) }

// heldOut3 was written in one sitting before round 3, without running the
// matcher on it; it is not to be edited after its first measurement.
var heldOut3 = []phrasing{
	// Simplified Chinese
	{"zh-Hans", "为啥每年都要认证一次", "certification"},
	{"zh-Hans", "领养老金资格认证到底是干嘛的", "certification"},
	{"zh-Hans", "手机上咋认证啊 教教我", "howto"},
	{"zh-Hans", "在哪个app上面做认证", "howto"},
	{"zh-Hans", "我不会弄 认证第一步是啥", "howto"},
	{"zh-Hans", "养老金这个月咋没到账", "late"},
	{"zh-Hans", "过了认证时间了还能补吗", "late"},
	{"zh-Hans", "养老金停发了怎么恢复", "late"},
	{"zh-Hans", "拍照一直失败 说要眨眼", "face"},
	{"zh-Hans", "戴老花镜刷脸不行吗", "face"},
	{"zh-Hans", "我在外地打工 怎么给我妈做认证", "family"},
	{"zh-Hans", "帮爸爸认证要他本人在旁边吗", "family"},
	{"zh-Hans", "老人九十多岁有没有绿色通道", "priority"},
	{"zh-Hans", "我爸卧床好几年了出不了门 认证咋办", "homevisit"},
	{"zh-Hans", "灵活就业养老保险在哪交", "payment"},
	{"zh-Hans", "社保卡密码忘了怎么办", "card"},
	{"zh-Hans", "新社保卡怎么激活", "card"},
	{"zh-Hans", "交了十年社保能拿养老金不", "minyears"},
	{"zh-Hans", "有个人加我微信说帮我办认证要收费", "scam"},
	{"zh-Hans", "我的人脸照片会不会被别人拿去用", "privacy"},
	{"zh-Hans", "怎么知道认证成功了没有", "status"},
	{"zh-Hans", "公司没给我交养老保险犯法吗", "law"},
	{"zh-Hans", "鸡蛋现在多少钱一斤", ""},
	{"zh-Hans", "后天要下雨不", ""},
	{"zh-Hans", "国足今晚踢得怎么样", ""},
	{"zh-Hans", "饺子馅怎么调好吃", ""},
	{"zh-Hans", "血压高头晕吃啥药", ""},
	{"zh-Hans", "去海南旅游住哪里好", ""},
	{"zh-Hans", "话费怎么充", ""},
	// Traditional Chinese
	{"zh-Hant", "為什麼每年都要認證", "certification"},
	{"zh-Hant", "資格認證是什麼東西", "certification"},
	{"zh-Hant", "手機要下載哪個app才能認證", "howto"},
	{"zh-Hant", "認證的步驟是什麼", "howto"},
	{"zh-Hant", "養老金這個月沒入帳", "late"},
	{"zh-Hant", "沒去認證 錢被停掉了怎麼辦", "late"},
	{"zh-Hant", "過期才認證 之前的錢會補發嗎", "late"},
	{"zh-Hant", "臉部辨識一直失敗", "face"},
	{"zh-Hant", "拍不到臉 畫面一直黑黑的", "face"},
	{"zh-Hant", "我住國外 可以幫爸媽認證嗎", "family"},
	{"zh-Hant", "孫子可以替阿嬤辦嗎", "family"},
	{"zh-Hant", "九十歲老人家辦事要排隊嗎", "priority"},
	{"zh-Hant", "我媽行動不便出不了門 可以到府認證嗎", "homevisit"},
	{"zh-Hant", "沒有工作了 社保要自己去哪裡繳", "payment"},
	{"zh-Hant", "社保卡掉了怎麼補辦", "card"},
	{"zh-Hant", "社保卡過期了", "card"},
	{"zh-Hant", "至少要繳幾年才能領退休金", "minyears"},
	{"zh-Hant", "有人打來說我的養老金帳戶有問題要我匯款", "scam"},
	{"zh-Hant", "你們會不會把我的照片給別人", "privacy"},
	{"zh-Hant", "查一下我今年認證了沒", "status"},
	{"zh-Hant", "社會保險法規定誰要繳錢", "law"},
	{"zh-Hant", "老闆說不用幫我保社保 合法嗎", "law"},
	{"zh-Hant", "今天高麗菜一斤多少", ""},
	{"zh-Hant", "明天會不會下雨", ""},
	{"zh-Hant", "NBA昨天誰贏", ""},
	{"zh-Hant", "滷肉飯怎麼做", ""},
	{"zh-Hant", "感冒咳嗽要吃什麼藥", ""},
	{"zh-Hant", "去日本玩要辦簽證嗎", ""},
	// English
	{"en", "why do i have to prove im alive every year", "certification"},
	{"en", "what is the point of certifying every year", "certification"},
	{"en", "how do i certify on my phone", "howto"},
	{"en", "which app do i use to do the pension check", "howto"},
	{"en", "my dad forgot to certify and they stopped his pension", "late"},
	{"en", "pension hasnt arrived since march", "late"},
	{"en", "what happens if i dont certify this year", "late"},
	{"en", "the face scan wont work", "face"},
	{"en", "it says move closer to the camera but nothing happens", "face"},
	{"en", "can i certify my mum from overseas", "family"},
	{"en", "im doing this for my elderly father how do i start", "family"},
	{"en", "my gran is 97 does she have to queue", "priority"},
	{"en", "is there a quicker way for disabled pensioners", "priority"},
	{"en", "mum is bedbound can someone come to the house", "homevisit"},
	{"en", "how to pay my own contributions now i left my job", "payment"},
	{"en", "lost my social security card", "card"},
	{"en", "social security card is broken where can i get a new one", "card"},
	{"en", "i only worked 12 years will i get anything", "minyears"},
	{"en", "a man called saying hes from the pension office and asked for my bank pin", "scam"},
	{"en", "do you store my face", "privacy"},
	{"en", "did my certification go through", "status"},
	{"en", "is my employer legally required to pay social insurance", "law"},
	{"en", "how much is a dozen eggs", ""},
	{"en", "is it going to snow this week", ""},
	{"en", "what time is the arsenal match", ""},
	{"en", "recipe for chicken soup", ""},
	{"en", "can i take ibuprofen with my blood pressure pills", ""},
	{"en", "cheap flights to spain", ""},
	{"en", "my phone bill is too high how do i change plan", ""},
	// Spanish
	{"es", "por que hay que hacer la fe de vida todos los años", "certification"},
	{"es", "que es la certificacion de la pension", "certification"},
	{"es", "como certifico desde el movil", "howto"},
	{"es", "que aplicacion hay que usar para la fe de vida", "howto"},
	{"es", "no he cobrado la pension este mes", "late"},
	{"es", "que pasa si no hago la certificacion", "late"},
	{"es", "me suspendieron la jubilacion por no certificar", "late"},
	{"es", "el reconocimiento facial no funciona", "face"},
	{"es", "la foto sale oscura y no me deja seguir", "face"},
	{"es", "como hago la fe de vida de mi padre que vive en china", "family"},
	{"es", "puedo certificar a mi mama desde españa", "family"},
	{"es", "mi abuelo tiene 95 años tiene prioridad", "priority"},
	{"es", "mi madre esta en silla de ruedas hay alguna ventanilla preferente", "priority"},
	{"es", "mi padre no se puede levantar de la cama pueden venir a casa", "homevisit"},
	{"es", "como pago yo mismo las cotizaciones", "payment"},
	{"es", "perdi la tarjeta de la seguridad social", "card"},
	{"es", "cuantos años minimo de cotizacion para cobrar jubilacion", "minyears"},
	{"es", "me llamaron diciendo que eran de la seguridad social y pidieron mi contraseña", "scam"},
	{"es", "guardan mis datos personales", "privacy"},
	{"es", "ya esta hecha mi certificacion?", "status"},
	{"es", "es obligatorio que la empresa cotice por mi", "law"},
	{"es", "cuanto paga el trabajador y cuanto la empresa", "law"},
	{"es", "cuanto vale el pan hoy", ""},
	{"es", "va a llover el fin de semana", ""},
	{"es", "quien gano el partido del barcelona", ""},
	{"es", "receta de paella", ""},
	{"es", "que pastilla tomo para la tension", ""},
	{"es", "hoteles baratos en valencia", ""},
	{"es", "como pago la factura del movil", ""},
}

// heldOut3Floor is the accuracy last measured on heldOut3 (93.0% after
// round 3), rounded down.
const heldOut3Floor = 0.93

// TestFAQHeldOut3 measures heldOut3: the off-topic goal is asserted, the
// accuracy goal reported, and the measured floor asserted.
func TestFAQHeldOut3(t *testing.T) { checkHeldOutFloor(t, "heldOut3", heldOut3, heldOut3Floor) }
