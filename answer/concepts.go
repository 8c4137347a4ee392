package answer

import (
	"strings"
	"unicode/utf8"
)

// Concepts: many surface words, a few meanings.
//
// Keywords only meet a question that uses their very words: "for my
// mother" misses "for my mum", "pension stopped" misses "me cortaron la
// jubilación", "帮我妈" misses "帮我爸". Adding more keywords did not
// generalise (see heldout_test.go). So the matcher also reads a small
// concept layer: each concept lists the surface forms, in all four
// languages, that mean it (mother, mum, madre, 妈 → parent; stopped,
// suspended, cortaron, 停发 → lapse), and
//
//   - a question gets one feature per concept it mentions ("@parent"),
//     language-neutral, scored by inverse topic frequency like any other
//     feature: a topic holds a concept when its keywords (or its canonical
//     question) mention it;
//   - every keyword also gets a concept form, its surface words replaced by
//     their concepts ("for my mother" → for my @parent), found whole when
//     the question has the same concepts and the other words. A concept
//     form needs at least two content features: one concept alone ("mum")
//     is a keyword found whole only when the concept is held by one topic.
//
// Surfaces are written folded (lower case, no accents, simplified
// characters). A Latin surface is one word, or words joined by "_" that
// must follow each other, matched whole; a trailing "*" matches any word
// that starts so. Han surfaces match
// anywhere in a run of Han characters. Surfaces are not per language:
// a word listed must not mean something else in another language
// (Spanish "son" is "they are", so English "son" is only "my son").

// conceptMark starts a concept feature; it never survives folding, so no
// word or bigram can collide with a concept.
const conceptMark = "@"

// conceptAlone lists the concepts that are a keyword by themselves in the
// one topic whose keywords hold them (faq.go): a concept that names a
// topic's matter (lapse, immobile, disabled). Concepts of means or people
// (phone, place, parent, photo) are not. Words with an everyday sense
// outside the pension are left out of concepts: Spanish "tarde" (afternoon),
// "cara" (expensive), "cola" (a drink).
var conceptAlone = toSet(`alive lapse face immobile visit queue disabled legal scam contribute`)

var conceptDefs = []struct {
	name, surfaces string
}{
	{"alive", `
活着 还活 在世 健在 生存
alive living proof_of_life vivo viva`},
	{"parent", `
妈 爸 父母 父亲 母亲 老娘 老爹 奶奶 爷爷 外婆 外公 姥姥 姥爷 阿嬷 阿公 婆婆 公公 岳父 岳母 老伴
mum mom mommy mummy mother mothers father fathers dad daddy parent parents gran granny grandma grandmother grandpa grandfather grandad granddad nan
madre padre padres mama papa mami papi abuela abuelo abuelos abuelita abuelito suegra suegro`},
	{"child", `
儿子 女儿 闺女 孙子 孙女 外孙 子女 孩子 儿女 小孩 晚辈
my_son daughter daughters kid kids child children grandson grandsons granddaughter granddaughters grandchild grandchildren
hijo hija hijos hijas nieto nieta nietos nietas`},
	{"phone", `
手机 微信 支付宝 app 小程序 网上 线上 电脑 智能机 网站 公众号
phone phones smartphone mobile cellphone apps application online internet website wechat alipay
movil celular telefono aplicacion web`},
	{"place", `
窗口 社保局 社保中心 社区 街道 营业厅 柜台 大厅 服务中心 人社局
office window counter branch
oficina ventanilla sucursal`},
	{"lapse", `
停 断了 中断 没发 没到账 没到帐 没收到 没打 没进来 没入账 没汇 没领到 没钱 没有钱 少了 晚了 太晚 过期 逾期 超期 错过 忘了 忘记 补发
stop* suspend* cut_off halt* late overdue expired missed forgot* lapsed
no_money sin_dinero no_cobro no_he_cobrado no_cobre cortaron cortado cortar suspend* parar paro paraliz* detuv* no_llega dejaron_de olvid* vencid* atrasad* retras* a_tiempo`},
	{"face", `
脸 面部 识别 眼睛 相机 摄像头 镜头 眨眼 张嘴 摇头 点头 刷脸
face faces facial recogni* eyes camera selfie blink* camara rostro reconoc* ojos parpade*`},
	{"fail", `
失败 不行 不成功 过不了 过不去 通不过 不通过 认不出 报错 出错 不了
fail* error wont_work doesnt_work not_working dont_work does_not_work nothing_happens cant_recognize not_recognize*
no_funciona falla fallo fallando no_reconoce no_me_reconoce no_me_deja`},
	{"light", `
光线 太暗 黑 暗 反光 太亮
dark darkness light lighting bright shadow oscur* luz brillo`},
	{"immobile", `
卧床 瘫 躺 下不了床 起不来 出不了门 不能出门 出不去 行动不便 走不了 不能走 走不动 腿脚不好 养老院 安养院 护理院 住院 敬老院 下不了地
bed bedridden bedbound housebound out_of_bed get_up cant_get_up paralys* paralyz* stroke nursing_home care_home hospital* cant_walk cannot_walk cant_leave cannot_leave
cama postrad* encamad* residencia no_puede_salir no_puede_caminar no_puede_andar no_se_puede_levantar derrame`},
	{"visit", `
上门 派人 到家 到府 来家 家里来 来我家 到我家
home_visit house_call come_to_the_house come_to_my_home send_someone someone_come
a_domicilio venir_a_casa vengan_a_casa visita`},
	{"queue", `
排队 优先 绿色通道 插队 特殊通道 加急
queue* priority fast_track faster quicker prioridad preferente preferencia`},
	{"disabled", `
残疾 残障 身障 失明 盲人 聋 轮椅
disabled disability handicap* blind deaf wheelchair discapacit* minusvalid* ciego ciega sordo sorda silla_de_ruedas`},
	{"employer", `
公司 单位 老板 雇主 企业 厂里 工厂 用人单位
employer employers company boss firm empresa empresas jefe patron patrono empleador`},
	{"legal", `
法律 合法 违法 犯法 法规 规定 义务 法定
law laws legal legally illegal illegally legally_required obligat* mandatory
ley leyes ilegal obligatori*`},
	{"contribute", `
缴费 交费 续交 续缴 补缴 缴纳 交社保 缴社保 交养老保险 缴养老保险 交保险 缴保险
contribut* premium premiums pay_in pay_into cotiz* aport* cuota cuotas`},
	{"years", `
年限 几年 多少年 十五年 二十年 年头
how_many_years enough_years years_of cuantos_anos anos_de`},
	{"money", `
养老金 退休金 退休工资 养老钱 钱
pension pensions money pensioner* jubilacion dinero`},
	{"scam", `
骗 诈骗 冒充 转账 汇款 验证码 密码 收费 手续费 中奖 陌生
scam* fraud* fake pin password transfer fee fees stranger* phishing
estafa* fraude timo contrasena clave transferencia comision desconocido`},
	{"data", `
存 保存 保留 删除 泄露 个资 资料 隐私 数据 安全
store stored storing keep keeping delete* share sharing data information privacy
safe secure guard* borr* compart* datos privacidad informacion a_salvo`},
	{"photo", `
照片 相片 照相 图片 头像
photo photos picture pictures pic pics image images foto fotos imagen imagenes`},
	{"done", `
成功 通过 好了没 完成 办好 办完
done successful success went_through go_through gone_through completed approved
hecho hecha listo lista completad* aprobad* funciono`},
}

// "Bank" is in no concept: a bank is where the pension arrives (late), whose
// PIN scammers ask for (scam), and a place to certify (howto).

// conceptSurface is one surface form of a concept.
type conceptSurface struct {
	concept string
	latin   latinPhrase // Latin words (phrase.go)
	han     string
}

var (
	hanSurfaces   []conceptSurface // longest first
	latinSurfaces []conceptSurface // most words first

	// A question takes, at each position, the first surface in the order
	// above that it has there. Rather than try them all at every
	// position, only the surfaces that can start there are tried: those
	// indexed under the position's first character or word. The indexes
	// hold positions in the lists above, ascending, so the order is kept.
	hanByFirst   map[rune][]int // Han surfaces by their first character
	latinByFirst latinIndex     // Latin surfaces by their first word
)

func init() {
	for _, d := range conceptDefs {
		for _, tok := range strings.Fields(d.surfaces) {
			c := conceptMark + d.name
			if isHan(tok) {
				hanSurfaces = append(hanSurfaces, conceptSurface{concept: c, han: tok})
			} else {
				latinSurfaces = append(latinSurfaces, conceptSurface{concept: c, latin: newLatinPhrase(strings.Split(tok, "_"))})
			}
		}
	}
	sortSurfaces(hanSurfaces, func(s conceptSurface) int { return len([]rune(s.han)) })
	sortSurfaces(latinSurfaces, func(s conceptSurface) int { return len(s.latin.words) })

	hanByFirst = make(map[rune][]int)
	for i, cs := range hanSurfaces {
		r, _ := utf8.DecodeRuneInString(cs.han)
		hanByFirst[r] = append(hanByFirst[r], i)
	}
	latinByFirst = newLatinIndex()
	for i, cs := range latinSurfaces {
		latinByFirst.add(i, cs.latin)
	}
}

func sortSurfaces(ss []conceptSurface, size func(conceptSurface) int) {
	// insertion sort, stable: longest first
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && size(ss[j]) > size(ss[j-1]); j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

// hanSurfaceAt returns the first of hanSurfaces that the folded Han text
// starts with.
func hanSurfaceAt(text string) (conceptSurface, bool) {
	r, _ := utf8.DecodeRuneInString(text)
	for _, i := range hanByFirst[r] {
		if strings.HasPrefix(text, hanSurfaces[i].han) {
			return hanSurfaces[i], true
		}
	}
	return conceptSurface{}, false
}

// latinSurfaceAt returns the first of latinSurfaces that the words ws
// (at least one) start with.
func latinSurfaceAt(ws []string) (conceptSurface, bool) {
	whole, prefix := latinByFirst.candidates(ws[0])
	// Both lists are ascending positions in latinSurfaces: walk them
	// together, lowest first, as if trying every surface in turn.
	for len(whole) > 0 || len(prefix) > 0 {
		var i int
		if len(prefix) == 0 || len(whole) > 0 && whole[0] < prefix[0] {
			i, whole = whole[0], whole[1:]
		} else {
			i, prefix = prefix[0], prefix[1:]
		}
		if latinSurfaces[i].latin.matchAt(ws) {
			return latinSurfaces[i], true
		}
	}
	return conceptSurface{}, false
}

// conceptFeatures returns the features of s as textFeatures does, but with
// every concept surface replaced by its concept feature, and the concept
// features alone.
func conceptFeatures(s, lang string) (feats, concepts []string) {
	feats, concepts, _ = conceptFeaturesCovering(s, lang)
	return feats, concepts
}

// conceptFeaturesCovering is conceptFeatures, and for each concept the
// surface text it stands for: the Latin words, or the Han surface.
func conceptFeaturesCovering(s, lang string) (feats, concepts []string, covers map[string][]segment) {
	return scanConcepts(segments(fold(s)), lang, true)
}

// scanConcepts is conceptFeaturesCovering on the segments of a folded
// text. Without withFeats it returns the concepts and covers only, and no
// feats: a question (newQuery) needs no more, and the other features cost
// stemming, bigrams and allocations.
func scanConcepts(segs []segment, lang string, withFeats bool) (feats, concepts []string, covers map[string][]segment) {
	covers = make(map[string][]segment)
	stops := stopWordsFor(lang)
	var latin []string
	flush := func() {
		for i := 0; i < len(latin); {
			if cs, ok := latinSurfaceAt(latin[i:]); ok {
				if withFeats {
					feats = append(feats, cs.concept)
				}
				concepts = append(concepts, cs.concept)
				n := len(cs.latin.words)
				for _, w := range latin[i : i+n] {
					covers[cs.concept] = append(covers[cs.concept], segment{w, classLatin})
				}
				i += n
				continue
			}
			if withFeats {
				w := latin[i]
				if stops[w] {
					feats = append(feats, stopMark+w)
				} else {
					feats = append(feats, stem(w, lang))
				}
			}
			i++
		}
		latin = latin[:0]
	}
	for _, seg := range segs {
		if seg.class != classLatin {
			flush()
		}
		switch seg.class {
		case classHan:
			// i and start are byte offsets: surfaces are matched on the
			// folded text as it is, which is valid UTF-8.
			text := seg.text
			start := 0 // text before start is taken
			for i := 0; i < len(text); {
				cs, ok := hanSurfaceAt(text[i:])
				if !ok {
					_, size := utf8.DecodeRuneInString(text[i:])
					i += size
					continue
				}
				if withFeats {
					if start < i {
						feats = hanFeatures(feats, text[start:i])
					}
					feats = append(feats, cs.concept)
				}
				concepts = append(concepts, cs.concept)
				covers[cs.concept] = append(covers[cs.concept], segment{cs.han, classHan})
				i += len(cs.han)
				start = i
			}
			if withFeats && start < len(text) {
				feats = hanFeatures(feats, text[start:])
			}
		case classDigit:
			if withFeats {
				feats = append(feats, digitFeature(seg.text))
			}
		case classLatin:
			latin = append(latin, seg.text)
		}
	}
	flush()
	return feats, dedupe(concepts), covers
}

func isConcept(f string) bool { return strings.HasPrefix(f, conceptMark) }
