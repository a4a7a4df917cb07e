package validation

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/api/resource"
)

// IsDNS1123Label reports whether s is a lower-case RFC 1123 label: at most
// 63 characters of a-z, 0-9 and '-', starting and ending alphanumeric.
func IsDNS1123Label(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// IsDNS1123Subdomain reports whether s is lower-case RFC 1123 labels joined
// by dots, at most 253 characters in all.
func IsDNS1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !IsDNS1123Label(part) {
			return false
		}
	}
	return true
}

// IsPortName reports whether s is an IANA service name, the form of port
// names: at most 15 characters of a-z, 0-9 and '-', with at least one
// letter, no leading, trailing or doubled '-'.
func IsPortName(s string) bool {
	if len(s) == 0 || len(s) > 15 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
			letter = true
		case '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
	}
	return letter
}

// IsConfigKey reports whether s may be a key of ConfigMap or Secret data:
// at most 253 characters of alphanumerics, '-', '_' and '.', not "." or "..".
func IsConfigKey(s string) bool {
	if len(s) == 0 || len(s) > 253 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// IsEnvVarName reports whether s may name an environment variable: printable
// ASCII without '=', not empty.
func IsEnvVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '=' {
			return false
		}
	}
	return true
}

// IsPathSegmentName reports whether s may name an object whose name is a
// single path segment (RBAC kinds): not ".", "..", and without '/' or '%'.
func IsPathSegmentName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/%")
}

// nameRule names the rule an object name must follow.
type nameRule int

const (
	subdomainName nameRule = iota
	labelName
	segmentName
)

func (r nameRule) check(s string) (ok bool, detail string) {
	switch r {
	case labelName:
		return IsDNS1123Label(s), "must be a lower-case RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', starting and ending with an alphanumeric character"
	case segmentName:
		return IsPathSegmentName(s), "must not be '.' or '..' or contain '/' or '%'"
	}
	return IsDNS1123Subdomain(s), "must be a lower-case RFC 1123 subdomain: labels of a-z, 0-9 and '-' separated by '.', at most 253 characters"
}

func (e *errs) dnsLabel(p path, s string) {
	if ok, detail := labelName.check(s); !ok {
		e.invalid(p, s, "%s", detail)
	}
}

func (e *errs) dnsSubdomain(p path, s string) {
	if ok, detail := subdomainName.check(s); !ok {
		e.invalid(p, s, "%s", detail)
	}
}

// qualifiedName checks a label-key shaped name ([prefix/]name).
func (e *errs) qualifiedName(p path, s string) {
	if err := labels.ValidateKey(s); err != nil {
		e.invalid(p, s, "%s", stripClass(err, labels.ErrInvalid))
	}
}

// stripClass removes a sentinel's text, and the "key %q: " or "value %q: "
// that repeats the offending value, from an error message for display.
func stripClass(err, class error) string {
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), class.Error()), ": ")
	for _, what := range []string{"key ", "value "} {
		rest, ok := strings.CutPrefix(msg, what)
		if !ok || !strings.HasPrefix(rest, "\"") {
			continue
		}
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			if tail, ok := strings.CutPrefix(rest[len(q):], ": "); ok {
				return tail
			}
		}
	}
	return msg
}

func (e *errs) labelMap(p path, m map[string]string) {
	for _, k := range sortedKeys(m) {
		if err := labels.ValidateKey(k); err != nil {
			e.invalid(p, k, "%s", stripClass(err, labels.ErrInvalid))
		}
		if err := labels.ValidateValue(m[k]); err != nil {
			e.invalid(p.key(k), m[k], "%s", stripClass(err, labels.ErrInvalid))
		}
	}
}

func (e *errs) nonNegative(p path, v int64) {
	if v < 0 {
		e.invalid(p, v, "must be greater than or equal to 0")
	}
}

func (e *errs) positive(p path, v int64) {
	if v <= 0 {
		e.invalid(p, v, "must be greater than 0")
	}
}

func (e *errs) port(p path, v int32) {
	if v < 1 || v > 65535 {
		e.invalid(p, v, "must be between 1 and 65535, inclusive")
	}
}

func (e *errs) ip(p path, s string) {
	if _, err := netip.ParseAddr(s); err != nil {
		e.invalid(p, s, "must be a valid IP address")
	}
}

func (e *errs) cidr(p path, s string) {
	if _, err := netip.ParsePrefix(s); err != nil {
		e.invalid(p, s, "must be a valid CIDR")
	}
}

// intOrPercent checks an IntOrString used as a count or a percentage:
// a non-negative integer, or "N%" with 0 <= N <= 100 when capped.
func (e *errs) intOrPercent(p path, v *api.IntOrString, capped bool) {
	if v == nil {
		return
	}
	if _, ok := v.GetValue().(*api.IntOrString_IntVal); ok {
		e.nonNegative(p, int64(v.GetIntVal()))
		return
	}
	s := v.GetStrVal()
	n, ok := parsePercent(s)
	switch {
	case !ok:
		e.invalid(p, s, "must be an integer or a percentage (e.g. '5%%')")
	case n < 0:
		e.invalid(p, s, "must be greater than or equal to 0")
	case capped && n > 100:
		e.invalid(p, s, "must not be greater than 100%%")
	}
}

func parsePercent(s string) (int, bool) {
	num, ok := strings.CutSuffix(s, "%")
	if !ok || num == "" {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil
}

// portRef checks a probe or service target port: 1-65535 or a port name.
func (e *errs) portRef(p path, v *api.IntOrString, required bool) {
	if v == nil || v.GetValue() == nil {
		if required {
			e.required(p, "")
		}
		return
	}
	if _, ok := v.GetValue().(*api.IntOrString_IntVal); ok {
		e.port(p, v.GetIntVal())
		return
	}
	if s := v.GetStrVal(); !IsPortName(s) {
		e.invalid(p, s, "must be a port number or an IANA service name (at most 15 characters of a-z, 0-9 and '-', with a letter)")
	}
}

// labelValueError returns why v is not a valid label value, or "".
func labelValueError(v string) string {
	if err := labels.ValidateValue(v); err != nil {
		return stripClass(err, labels.ErrInvalid)
	}
	return ""
}

func parseInt64(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

// labelSelector checks a structured selector's keys, values and operators.
func (e *errs) labelSelector(ls *api.LabelSelector, p path) {
	if ls == nil {
		return
	}
	e.labelMap(p.child("matchLabels"), ls.GetMatchLabels())
	for i, r := range ls.GetMatchExpressions() {
		rp := p.child("matchExpressions").index(i)
		e.qualifiedName(rp.child("key"), r.GetKey())
		e.oneOf(rp.child("operator"), r.GetOperator(), false, selectorOps...)
		switch r.GetOperator() {
		case "In", "NotIn":
			if len(r.GetValues()) == 0 {
				e.required(rp.child("values"), "must be specified when operator is In or NotIn")
			}
		case "Exists", "DoesNotExist":
			if len(r.GetValues()) > 0 {
				e.forbidden(rp.child("values"), "may not be specified when operator is Exists or DoesNotExist")
			}
		}
		for j, v := range r.GetValues() {
			if msg := labelValueError(v); msg != "" {
				e.invalid(rp.child("values").index(j), v, "%s", msg)
			}
		}
	}
}

// parseBoth parses two quantities, reporting whether both are valid.
func parseBoth(a, b string) (resource.Quantity, resource.Quantity, bool) {
	qa, errA := resource.ParseQuantity(a)
	qb, errB := resource.ParseQuantity(b)
	return qa, qb, errA == nil && errB == nil
}
