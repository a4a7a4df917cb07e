package resource_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api/resource"
)

func TestParseList(t *testing.T) {
	l, err := resource.ParseList(map[string]string{resource.CPU: "1500m", resource.Memory: "1024Mi"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{resource.CPU: "1500m", resource.Memory: "1Gi"}
	if got := l.StringMap(); !reflect.DeepEqual(got, want) {
		t.Fatalf("StringMap = %v, want %v", got, want)
	}
	if got := l.Names(); !reflect.DeepEqual(got, []string{"cpu", "memory"}) {
		t.Fatalf("Names = %v", got)
	}

	_, err = resource.ParseList(map[string]string{"cpu": "x", "memory": "1Q", "pods": "3"})
	if !errors.Is(err, resource.ErrFormat) {
		t.Fatalf("ParseList error = %v, want ErrFormat", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "cpu: ") || !strings.Contains(msg, "memory: ") {
		t.Fatalf("ParseList error %q does not name both bad keys", msg)
	}
}

func TestListArithmetic(t *testing.T) {
	mk := func(m map[string]string) resource.List {
		t.Helper()
		l, err := resource.ParseList(m)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	node := mk(map[string]string{"cpu": "4", "memory": "8Gi", "pods": "110"})
	used := mk(map[string]string{"cpu": "3500m", "memory": "6Gi"})
	req := mk(map[string]string{"cpu": "1", "memory": "1Gi"})

	free := node.Sub(used)
	if got := free.StringMap(); !reflect.DeepEqual(got, map[string]string{"cpu": "500m", "memory": "2Gi", "pods": "110"}) {
		t.Fatalf("Sub = %v", got)
	}
	if req.LessOrEqual(free) {
		t.Error("1 cpu fits in 500m")
	}
	half := mk(map[string]string{"cpu": "500m"})
	if got := used.Add(half).Exceeded(node); got != nil {
		t.Errorf("Exceeded = %v, want none", got)
	}
	if got := used.Add(req).Exceeded(node); !reflect.DeepEqual(got, []string{"cpu"}) {
		t.Errorf("Exceeded = %v, want [cpu]", got)
	}
	if !mk(map[string]string{"gpu": "0"}).LessOrEqual(resource.List{}) {
		t.Error("zero gpu should fit in an empty list")
	}
	if !used.Add(req).Equal(mk(map[string]string{"cpu": "4500m", "memory": "7Gi"})) {
		t.Error("Equal after Add")
	}
	if used.Equal(req) {
		t.Error("different lists Equal")
	}
	if got := used.Get("memory").String(); got != "6Gi" {
		t.Errorf("Get = %q", got)
	}
	c := used.Clone()
	c["cpu"] = resource.MustParse("1")
	if used["cpu"].String() != "3500m" {
		t.Error("Clone shares storage")
	}
}
