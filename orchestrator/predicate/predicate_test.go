package predicate

import (
	"testing"

	"github.com/coxswain-io/coxswain/api"
)

func pod(gen, rv int64, labels, annotations map[string]string) api.Object {
	return &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Generation: gen, ResourceVersion: rv, Labels: labels, Annotations: annotations}}
}

func TestUpdatePredicates(t *testing.T) {
	base := pod(1, 10, map[string]string{"app": "web"}, map[string]string{"a": "1"})
	tests := []struct {
		name string
		p    Predicate
		new  api.Object
		want bool
	}{
		{"generation same", GenerationChanged(), pod(1, 11, map[string]string{"app": "web"}, nil), false},
		{"generation bumped", GenerationChanged(), pod(2, 11, map[string]string{"app": "web"}, nil), true},
		{"rv same (resync)", ResourceVersionChanged(), base, false},
		{"rv changed", ResourceVersionChanged(), pod(1, 11, nil, nil), true},
		{"labels same", LabelsChanged(), pod(1, 11, map[string]string{"app": "web"}, nil), false},
		{"labels changed", LabelsChanged(), pod(1, 11, map[string]string{"app": "db"}, nil), true},
		{"annotations same", AnnotationsChanged(), pod(1, 11, nil, map[string]string{"a": "1"}), false},
		{"annotations changed", AnnotationsChanged(), pod(1, 11, nil, map[string]string{"a": "2"}), true},
		{"and: both", And(GenerationChanged(), LabelsChanged()), pod(2, 11, map[string]string{"app": "db"}, nil), true},
		{"and: one", And(GenerationChanged(), LabelsChanged()), pod(2, 11, map[string]string{"app": "web"}, nil), false},
		{"or: one", Or(GenerationChanged(), LabelsChanged()), pod(2, 11, map[string]string{"app": "web"}, nil), true},
		{"or: none", Or(GenerationChanged(), LabelsChanged()), pod(1, 11, map[string]string{"app": "web"}, nil), false},
		{"or: empty", Or(), pod(2, 11, nil, nil), false},
		{"funcs zero", Funcs{}, base, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Update(base, tt.new); got != tt.want {
				t.Fatalf("Update = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCreateDeleteAdmittedByChangePredicates(t *testing.T) {
	obj := pod(1, 1, nil, nil)
	for name, p := range map[string]Predicate{
		"generation": GenerationChanged(), "rv": ResourceVersionChanged(), "labels": LabelsChanged(),
	} {
		if !p.Create(obj) || !p.Delete(obj) {
			t.Errorf("%s: create/delete not admitted", name)
		}
	}
}

func TestNewFilter(t *testing.T) {
	p := NewFilter(func(obj api.Object) bool { return obj.GetMetadata().GetLabels()["app"] == "web" })
	web := pod(1, 1, map[string]string{"app": "web"}, nil)
	db := pod(1, 1, map[string]string{"app": "db"}, nil)
	if !p.Create(web) || p.Create(db) || !p.Delete(web) || p.Delete(db) {
		t.Fatal("filter create/delete wrong")
	}
	if !p.Update(db, web) || p.Update(web, db) {
		t.Fatal("filter must judge the new state on update")
	}
}
