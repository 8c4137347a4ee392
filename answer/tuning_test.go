package answer

import "testing"

// tuningPhrasings is the development set for issue #11: new phrasings of
// the kinds the issue reports (how-to and which-documents questions,
// a son or daughter certifying for a parent, prices and other off-topic
// questions), written separately from heldOut (heldout_test.go) and used,
// together with realPhrasings and offTopic (faq_test.go), to tune the
// keyword lists and matcher rules. Tuning may look at these misses; it may
// not look at heldOut's.
var tuningPhrasings = []phrasing{
	// how-to, which documents
	{"zh-Hans", "认证要带身份证吗", "howto"},
	{"zh-Hans", "做认证需要什么东西", "howto"},
	{"zh-Hans", "第一次认证不知道怎么弄", "howto"},
	{"zh-Hans", "在手机上怎么做年审", "howto"},
	{"zh-Hans", "认证要办什么手续", "howto"},
	{"zh-Hant", "認證需要哪些證件", "howto"},
	{"zh-Hant", "年審要怎麼辦理", "howto"},
	{"en", "which papers do I need to certify", "howto"},
	{"en", "what do i have to bring for the annual check", "howto"},
	{"en", "how does the certification work", "howto"},
	{"en", "how do I do my life certificate", "howto"},
	{"en", "what ID do i need for the certification", "howto"},
	{"en", "where do I go to get certified", "howto"},
	{"es", "qué necesito para certificarme", "howto"},
	{"es", "que documentos piden para la fe de vida", "howto"},
	{"es", "como hago el tramite de supervivencia", "howto"},
	{"es", "donde se hace la certificacion", "howto"},
	// family help
	{"en", "can my son certify for me", "family"},
	{"en", "could my daughter do the certification instead of me", "family"},
	{"en", "my kids want to do it for me is that ok", "family"},
	{"en", "can i certify my mum from my phone", "family"},
	{"en", "is my grandson allowed to do it for me", "family"},
	{"es", "¿puede mi hija hacerlo por mí?", "family"},
	{"es", "mi hijo puede certificarme", "family"},
	{"es", "puedo hacer la certificacion de mi padre", "family"},
	{"es", "mis hijos pueden hacer el tramite por mi", "family"},
	{"es", "puede mi nieto hacer la fe de vida por mi", "family"},
	{"zh-Hans", "孙子能帮我认证不", "family"},
	{"zh-Hans", "我女儿替我认证行吗", "family"},
	{"zh-Hant", "孩子可以代替我認證嗎", "family"},
	// what it is, status
	{"en", "what is the life certificate", "certification"},
	{"en", "why do i need to prove i am alive", "certification"},
	{"es", "que es la fe de vida", "certification"},
	{"es", "por que tengo que certificar cada año", "certification"},
	{"zh-Hans", "社保年审是什么", "certification"},
	{"en", "how can i see if my certification is done", "status"},
	{"es", "como compruebo si ya estoy certificado", "status"},
	// off-topic
	{"en", "price of rice today", ""},
	{"en", "how much does a taxi to the airport cost", ""},
	{"en", "what's the weather in shanghai", ""},
	{"en", "best recipe for fried rice", ""},
	{"en", "is coffee bad for my heart", ""},
	{"en", "prices of apartments in beijing", ""},
	{"es", "precio del pan", ""},
	{"es", "cuanto vale un billete de tren a sevilla", ""},
	{"es", "receta de gazpacho", ""},
	{"es", "el barcelona gano ayer", ""},
	{"es", "me duele la espalda que hago", ""},
	{"zh-Hans", "鸡蛋多少钱一斤", ""},
	{"zh-Hans", "感冒了吃什么药", ""},
	{"zh-Hans", "下午会下雨吗", ""},
	{"zh-Hans", "饺子怎么包", ""},
	{"zh-Hant", "今天股市怎麼樣", ""},
	{"zh-Hant", "蛋炒飯怎麼做", ""},
}

// TestFAQTuning measures the development set: realPhrasings, offTopic and
// tuningPhrasings together.
func TestFAQTuning(t *testing.T) {
	f := newTestFAQ(t)
	set := append(append(append([]phrasing(nil), realPhrasings...), offTopic...), tuningPhrasings...)
	evaluate(t, f, set)
}
