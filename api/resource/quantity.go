package resource

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Names of the common resources.
const (
	// CPU is measured in cores; "500m" is half a core.
	CPU = "cpu"
	// Memory is measured in bytes.
	Memory = "memory"
	// Pods is the number of pods a node can run.
	Pods = "pods"
	// EphemeralStorage is local scratch disk in bytes.
	EphemeralStorage = "ephemeral-storage"
)

// ErrFormat is returned (wrapped) by ParseQuantity for a string that is not
// a quantity.
var ErrFormat = errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")

// ErrRange is returned (wrapped) by ParseQuantity when the exponent is
// outside the supported range.
var ErrRange = errors.New("quantity exponent out of range")

// maxExponent bounds quantities: every magnitude must be below
// 10^maxExponent, so parsing cannot allocate without bound.
const maxExponent = 1000

// limitNanos is 10^maxExponent in nano-units.
var limitNanos = new(big.Int).Exp(big.NewInt(10), big.NewInt(maxExponent+9), nil)

// Format is the notation a Quantity is written in.
type Format int

const (
	// DecimalSI uses the suffixes n, u, m, "", k, M, G, T, P, E.
	DecimalSI Format = iota
	// BinarySI uses the suffixes Ki, Mi, Gi, Ti, Pi, Ei.
	BinarySI
	// DecimalExponent uses e<n> (e.g. "2e3").
	DecimalExponent
)

// String returns the name of the format.
func (f Format) String() string {
	switch f {
	case BinarySI:
		return "BinarySI"
	case DecimalExponent:
		return "DecimalExponent"
	}
	return "DecimalSI"
}

// Quantity is an exact amount of a resource. The zero value is 0 in DecimalSI
// notation. Quantities are immutable values: every operation returns a new
// one, so they may be shared and copied freely.
//
// Most quantities are held as a small int64 times a power of ten, so the
// arithmetic the scheduler does in its inner loops does not allocate; values
// that do not fit fall back to a big.Int of nano-units.
type Quantity struct {
	// When big is nil the value is v * 10^scale, scale in [-9, 0].
	v     int64
	scale int8
	// big, when set, is the value in units of 10^-9.
	big    *big.Int
	format Format
}

var (
	bigTen  = big.NewInt(10)
	bigOne  = big.NewInt(1)
	bigNano = big.NewInt(1_000_000_000)
	big1024 = big.NewInt(1024)
)

// pow10s[i] is 10^i, for i in [0, 18].
var pow10s = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// mulPow10 returns v * 10^n for n in [0, 18] and whether it fit in an int64.
func mulPow10(v int64, n int) (int64, bool) {
	if n == 0 || v == 0 {
		return v, true
	}
	m := pow10s[n]
	if v > math.MaxInt64/m || v < math.MinInt64/m {
		return 0, false
	}
	return v * m, true
}

// fromNanos builds a quantity from a nano-unit count, choosing the int64
// form when it fits.
func fromNanos(n *big.Int, f Format) Quantity {
	var q, r big.Int
	for _, scale := range [...]int8{0, -3, -6, -9} {
		div := pow10s[9+int(scale)]
		q.QuoRem(n, big.NewInt(div), &r)
		if r.Sign() == 0 && q.IsInt64() {
			return Quantity{v: q.Int64(), scale: scale, format: f}
		}
	}
	return Quantity{big: n, format: f}
}

// pow10 returns 10^n for n >= 0.
func pow10(n int) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// NewQuantity returns the quantity v in DecimalSI notation.
func NewQuantity(v int64) Quantity {
	return Quantity{v: v, format: DecimalSI}
}

// NewMilliQuantity returns the quantity m/1000 in DecimalSI notation.
func NewMilliQuantity(m int64) Quantity {
	return Quantity{v: m, scale: -3, format: DecimalSI}
}

// MustParse is ParseQuantity for constants in programs and tests; it panics
// on error.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(fmt.Sprintf("resource.MustParse(%q): %v", s, err))
	}
	return q
}

// decimalSuffixes maps a decimal SI suffix to its power of ten.
var decimalSuffixes = map[string]int{
	"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}

// binarySuffixes maps a binary SI suffix to its power of 1024.
var binarySuffixes = map[string]int{
	"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6,
}

// ParseQuantity parses a quantity: an optionally signed decimal number
// ("1", "1.5", ".5", "5.") followed by a decimal SI suffix (n u m k M G T P
// E), a binary SI suffix (Ki Mi Gi Ti Pi Ei) or a decimal exponent ("e3",
// "E-2"). Errors wrap ErrFormat or ErrRange.
func ParseQuantity(s string) (Quantity, error) {
	p, err := split(s)
	if err != nil {
		return Quantity{}, err
	}
	if q, ok := p.small(); ok {
		return q, nil
	}
	return p.big(s)
}

// parts is a quantity string taken apart: sign, the digits before and after
// the dot, and the power the suffix stands for.
type parts struct {
	neg                   bool
	intDigits, fracDigits string
	exp10, exp1024        int
	format                Format
}

// split takes s apart, checking its syntax.
func split(s string) (parts, error) {
	var p parts
	if s == "" {
		return p, fmt.Errorf("%q: %w", s, ErrFormat)
	}
	rest := s
	switch rest[0] {
	case '+':
		rest = rest[1:]
	case '-':
		p.neg = true
		rest = rest[1:]
	}
	// Digits with at most one dot.
	i := 0
	for i < len(rest) && isDigit(rest[i]) {
		i++
	}
	p.intDigits = rest[:i]
	if i < len(rest) && rest[i] == '.' {
		j := i + 1
		for j < len(rest) && isDigit(rest[j]) {
			j++
		}
		p.fracDigits = rest[i+1 : j]
		i = j
	}
	if p.intDigits == "" && p.fracDigits == "" {
		return p, fmt.Errorf("%q: %w", s, ErrFormat)
	}
	suffix := rest[i:]
	if e, ok := decimalSuffixes[suffix]; ok {
		p.exp10 = e
	} else if b, ok := binarySuffixes[suffix]; ok {
		p.format = BinarySI
		p.exp1024 = b
	} else if suffix[0] == 'e' || suffix[0] == 'E' {
		e, err := parseExponent(suffix[1:])
		if err != nil {
			return p, fmt.Errorf("%q: %w", s, err)
		}
		p.format = DecimalExponent
		p.exp10 = e
	} else {
		return p, fmt.Errorf("%q: %w", s, ErrFormat)
	}
	return p, nil
}

// small builds the int64 form without big.Int when the digits fit; it
// reports false when they do not, and big must be used.
func (p parts) small() (Quantity, bool) {
	if len(p.intDigits)+len(p.fracDigits) > 18 {
		return Quantity{}, false
	}
	var mant int64
	for _, digits := range [2]string{p.intDigits, p.fracDigits} {
		for i := 0; i < len(digits); i++ {
			mant = mant*10 + int64(digits[i]-'0')
		}
	}
	if p.exp1024 > 0 {
		if mant > math.MaxInt64>>(10*p.exp1024) {
			return Quantity{}, false
		}
		mant <<= 10 * p.exp1024
	}
	// value = mant * 10^shift
	shift := p.exp10 - len(p.fracDigits)
	var scale int
	switch {
	case shift >= 0:
		if shift > 18 {
			return Quantity{}, false
		}
		v, ok := mulPow10(mant, shift)
		if !ok {
			return Quantity{}, false
		}
		mant = v
	case shift >= -9:
		// Keep the scale a multiple of three, as String expects.
		scale = -((-shift + 2) / 3 * 3)
		v, ok := mulPow10(mant, shift-scale)
		if !ok {
			return Quantity{}, false
		}
		mant = v
	default:
		// Finer than a nano-unit: round up, away from zero, to nanos.
		if -9-shift > 18 {
			if mant == 0 {
				return Quantity{scale: -9, format: p.format}, true
			}
			mant, scale = 1, -9
			break
		}
		d := pow10s[-9-shift]
		q := mant / d
		if mant%d != 0 {
			q++
		}
		mant, scale = q, -9
	}
	if p.neg {
		mant = -mant
	}
	return Quantity{v: mant, scale: int8(scale), format: p.format}, true
}

// big builds the quantity with big.Int arithmetic, for any size.
func (p parts) big(s string) (Quantity, error) {
	// mantissa = intDigits.fracDigits = m * 10^-len(frac).
	mant, ok := new(big.Int).SetString(p.intDigits+p.fracDigits, 10)
	if !ok {
		return Quantity{}, fmt.Errorf("%q: %w", s, ErrFormat)
	}
	if p.exp1024 > 0 {
		mant.Lsh(mant, uint(10*p.exp1024))
	}
	// nanos = mant * 10^(exp10 + 9 - len(frac)), rounded up away from zero.
	shift := p.exp10 + 9 - len(p.fracDigits)
	if shift >= 0 {
		mant.Mul(mant, pow10(shift))
	} else {
		var rem big.Int
		mant.QuoRem(mant, pow10(-shift), &rem)
		if rem.Sign() != 0 {
			mant.Add(mant, bigOne)
		}
	}
	if mant.CmpAbs(limitNanos) >= 0 {
		return Quantity{}, fmt.Errorf("%q: %w", s, ErrRange)
	}
	if p.neg {
		mant.Neg(mant)
	}
	return fromNanos(mant, p.format), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseExponent parses the signed integer after "e".
func parseExponent(s string) (int, error) {
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 || t == "" {
		return 0, ErrFormat
	}
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) {
			return 0, ErrFormat
		}
	}
	e, err := strconv.Atoi(s)
	if err != nil || e > 2*maxExponent || e < -2*maxExponent {
		return 0, ErrRange
	}
	return e, nil
}

// n returns q in nano-units as a big.Int the caller must not modify.
func (q Quantity) n() *big.Int {
	if q.big != nil {
		return q.big
	}
	n := big.NewInt(q.v)
	if q.scale+9 > 0 {
		n.Mul(n, big.NewInt(pow10s[int(q.scale)+9]))
	}
	return n
}

// align returns q's and o's int64 mantissas at their common (smaller)
// scale, and false when either is big or scaling overflows.
func align(q, o Quantity) (a, b int64, scale int8, ok bool) {
	if q.big != nil || o.big != nil {
		return 0, 0, 0, false
	}
	a, b, scale = q.v, o.v, q.scale
	switch {
	case q.scale > o.scale:
		a, ok = mulPow10(q.v, int(q.scale-o.scale))
		scale = o.scale
	case o.scale > q.scale:
		b, ok = mulPow10(o.v, int(o.scale-q.scale))
	default:
		ok = true
	}
	return a, b, scale, ok
}

// Format returns the notation q is written in.
func (q Quantity) Format() Format { return q.format }

// IsZero reports whether q is zero.
func (q Quantity) IsZero() bool { return q.Sign() == 0 }

// Sign returns -1, 0 or +1 as q is negative, zero or positive.
func (q Quantity) Sign() int {
	switch {
	case q.big != nil:
		return q.big.Sign()
	case q.v < 0:
		return -1
	case q.v > 0:
		return 1
	}
	return 0
}

// Cmp compares q and o: -1 if q < o, 0 if equal, +1 if q > o.
func (q Quantity) Cmp(o Quantity) int {
	if a, b, _, ok := align(q, o); ok {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	return q.n().Cmp(o.n())
}

// Equal reports whether q and o are the same amount, whatever their notation.
func (q Quantity) Equal(o Quantity) bool { return q.Cmp(o) == 0 }

// Add returns q + o in q's notation (o's when q is zero).
func (q Quantity) Add(o Quantity) Quantity {
	if a, b, scale, ok := align(q, o); ok {
		if sum := a + b; (sum > a) == (b > 0) {
			return Quantity{v: sum, scale: scale, format: q.sumFormat(o)}
		}
	}
	return fromNanos(new(big.Int).Add(q.n(), o.n()), q.sumFormat(o))
}

// Sub returns q - o in q's notation (o's when q is zero).
func (q Quantity) Sub(o Quantity) Quantity {
	if a, b, scale, ok := align(q, o); ok {
		if diff := a - b; (diff < a) == (b > 0) {
			return Quantity{v: diff, scale: scale, format: q.sumFormat(o)}
		}
	}
	return fromNanos(new(big.Int).Sub(q.n(), o.n()), q.sumFormat(o))
}

func (q Quantity) sumFormat(o Quantity) Format {
	if q.IsZero() {
		return o.format
	}
	return q.format
}

// Neg returns -q.
func (q Quantity) Neg() Quantity {
	if q.big == nil && q.v != math.MinInt64 {
		return Quantity{v: -q.v, scale: q.scale, format: q.format}
	}
	return fromNanos(new(big.Int).Neg(q.n()), q.format)
}

// ceilDiv returns ceil(a/b) for b > 0, saturated to the int64 range.
func ceilDiv(a, b *big.Int) int64 {
	var quo, rem big.Int
	quo.QuoRem(a, b, &rem) // truncated toward zero
	if rem.Sign() > 0 {
		quo.Add(&quo, bigOne)
	}
	if !quo.IsInt64() {
		if quo.Sign() > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return quo.Int64()
}

// Value returns q rounded up to an integer (the ceiling), saturated to the
// int64 range.
func (q Quantity) Value() int64 { return q.scaled(0) }

// MilliValue returns q*1000 rounded up to an integer (the ceiling),
// saturated to the int64 range.
func (q Quantity) MilliValue() int64 { return q.scaled(-3) }

// scaled returns ceil(q / 10^scale), saturated to the int64 range.
func (q Quantity) scaled(scale int8) int64 {
	if q.big == nil {
		if q.scale >= scale {
			if v, ok := mulPow10(q.v, int(q.scale-scale)); ok {
				return v
			}
			if q.v > 0 {
				return math.MaxInt64
			}
			return math.MinInt64
		}
		d := pow10s[int(scale-q.scale)]
		v := q.v / d
		if q.v%d > 0 {
			v++
		}
		return v
	}
	return ceilDiv(q.big, big.NewInt(pow10s[9+int(scale)]))
}

// String returns the canonical form of q in its notation, as Kubernetes
// prints it: the largest suffix that leaves an integer mantissa ("1500m",
// "1k", "1Gi", "2e3"). A BinarySI quantity smaller than 1024 in magnitude
// or not a whole number prints in DecimalSI.
func (q Quantity) String() string {
	if q.big == nil && q.v != math.MinInt64 {
		return q.smallString()
	}
	v := q.n()
	if v.Sign() == 0 {
		return "0"
	}
	abs := new(big.Int).Abs(v)
	sign := ""
	if v.Sign() < 0 {
		sign = "-"
	}
	format := q.format
	if format == BinarySI {
		var units, rem big.Int
		units.QuoRem(abs, bigNano, &rem)
		if rem.Sign() != 0 || units.Cmp(big1024) < 0 {
			format = DecimalSI
		} else {
			k := 0
			for k < 6 {
				var r big.Int
				var qt big.Int
				qt.QuoRem(&units, big1024, &r)
				if r.Sign() != 0 {
					break
				}
				units.Set(&qt)
				k++
			}
			suffix := []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}[k]
			return sign + units.String() + suffix
		}
	}
	// Decimal: strip trailing zeros in groups of three, starting at 10^-9.
	exp := -9
	m := new(big.Int).Set(abs)
	thousand := big.NewInt(1000)
	var qt, r big.Int
	for {
		if format == DecimalSI && exp >= 18 {
			break
		}
		qt.QuoRem(m, thousand, &r)
		if r.Sign() != 0 {
			break
		}
		m.Set(&qt)
		exp += 3
	}
	if format == DecimalExponent {
		if exp == 0 {
			return sign + m.String()
		}
		return sign + m.String() + "e" + strconv.Itoa(exp)
	}
	return sign + m.String() + decimalSuffix[exp]
}

var decimalSuffix = map[int]string{-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}

// smallString is String for the int64 form, without big.Int.
func (q Quantity) smallString() string {
	if q.v == 0 {
		return "0"
	}
	m, exp := q.v, int(q.scale)
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	for exp < 0 && m%1000 == 0 {
		m /= 1000
		exp += 3
	}
	if q.format == BinarySI && exp == 0 && m >= 1024 {
		k := 0
		for k < 6 && m%1024 == 0 {
			m /= 1024
			k++
		}
		return sign + strconv.FormatInt(m, 10) + []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}[k]
	}
	for m%1000 == 0 && (q.format == DecimalExponent || exp < 18) {
		m /= 1000
		exp += 3
	}
	if q.format == DecimalExponent {
		if exp == 0 {
			return sign + strconv.FormatInt(m, 10)
		}
		return sign + strconv.FormatInt(m, 10) + "e" + strconv.Itoa(exp)
	}
	return sign + strconv.FormatInt(m, 10) + decimalSuffix[exp]
}

// MarshalText implements encoding.TextMarshaler with the canonical form.
func (q Quantity) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseQuantity.
func (q *Quantity) UnmarshalText(b []byte) error {
	p, err := ParseQuantity(string(b))
	if err != nil {
		return err
	}
	*q = p
	return nil
}
