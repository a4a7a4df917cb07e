package validation_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/validation"
)

// grow fills every message field of v with an empty message and every list
// of messages with one empty element (and a nil one when withNil),
// recursively, to reach the code that handles absent values.
func grow(v reflect.Value, depth int, withNil bool) {
	if depth > 12 || v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return
	}
	s := v.Elem()
	for i := 0; i < s.NumField(); i++ {
		f := s.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct:
			if f.IsNil() {
				f.Set(reflect.New(f.Type().Elem()))
			}
			grow(f, depth+1, withNil)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Pointer && f.Type().Elem().Elem().Kind() == reflect.Struct:
			e := reflect.New(f.Type().Elem().Elem())
			grow(e, depth+1, withNil)
			f.Set(reflect.Append(f, e))
			if withNil {
				f.Set(reflect.Append(f, reflect.Zero(f.Type().Elem())))
			}
		}
	}
}

// TestNoPanicOnSparseObjects defaults and validates every built-in kind
// filled with empty and nil parts; nothing may panic.
func TestNoPanicOnSparseObjects(t *testing.T) {
	for _, k := range api.BuiltinKinds() {
		t.Run(k.Kind, func(t *testing.T) {
			for _, withNil := range []bool{false, true} {
				obj := k.New()
				grow(reflect.ValueOf(obj), 0, withNil)
				validation.Default(obj)
				err := validation.ValidateObject(obj)
				if withNil && (err == nil || !strings.Contains(err.Error(), "list entries may not be null")) && hasList(obj) {
					t.Errorf("nil list entries not reported: %v", err)
				}
				_ = validation.ValidateUpdate(obj, k.New())
				_ = validation.ValidateUpdate(k.New(), obj)
			}
			// And the zero object, with nothing set at all.
			empty := k.New()
			if err := validation.ValidateObject(empty); err == nil {
				t.Errorf("empty %s accepted", k.Kind)
			}
			validation.Default(empty)
		})
	}
}

// hasList reports whether obj's message has any list of messages, anywhere
// grow reached (every kind but the flattest has one).
func hasList(obj api.Object) bool {
	found := false
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		if depth > 12 || found {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			switch {
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Pointer && f.Type.Elem().Elem().Kind() == reflect.Struct:
				found = true
				return
			case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
				walk(f.Type.Elem(), depth+1)
			}
		}
	}
	walk(reflect.TypeOf(obj).Elem(), 0)
	return found
}
