package wire

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote/wirepb"
)

// Transaction op names on the wire.
const (
	txnCreate       = "create"
	txnUpdate       = "update"
	txnUpdateStatus = "updateStatus"
	txnDelete       = "delete"
	txnCheck        = "check"
)

// TxnOpNames are the wire names of the store's transaction op types.
var TxnOpNames = map[store.OpType]string{
	store.OpCreate: txnCreate, store.OpUpdate: txnUpdate, store.OpUpdateStatus: txnUpdateStatus,
	store.OpDelete: txnDelete, store.OpCheck: txnCheck,
}

func txnOpType(name string) (store.OpType, bool) {
	for t, n := range TxnOpNames {
		if n == name {
			return t, true
		}
	}
	return 0, false
}

// transactionJSON is the JSON body of a transaction:
//
//	{"apiVersion":"remote.coxswain.io/v1","kind":"Transaction","ops":[
//	  {"op":"create","object":{"apiVersion":"v1","kind":"Pod",...}},
//	  {"op":"check","kind":"Pod","namespace":"a","name":"b","resourceVersion":"7"},
//	  {"op":"delete","kind":"Pod","namespace":"a","name":"c",
//	   "deleteOptions":{"propagationPolicy":"Foreground","preconditions":{"uid":"..."}}}]}
type transactionJSON struct {
	APIVersion string      `json:"apiVersion,omitempty"`
	Kind       string      `json:"kind,omitempty"`
	Ops        []txnOpJSON `json:"ops"`
}

type txnOpJSON struct {
	Op              string             `json:"op"`
	Object          json.RawMessage    `json:"object,omitempty"`
	Kind            string             `json:"kind,omitempty"`
	Namespace       string             `json:"namespace,omitempty"`
	Name            string             `json:"name,omitempty"`
	ResourceVersion FlexInt            `json:"resourceVersion,omitempty"`
	DeleteOptions   *DeleteOptionsJSON `json:"deleteOptions,omitempty"`
}

// txnResultJSON is the JSON answer: one item per op, null when an op has
// no result.
type txnResultJSON struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// EncodeTxn writes a transaction request (client side).
func (c Codec) EncodeTxn(ops []store.Op, f Format) ([]byte, error) {
	if f == FormatProtobuf {
		t := &wirepb.Transaction{}
		for _, op := range ops {
			w := &wirepb.TxnOp{Op: TxnOpNames[op.Type], Kind: op.Kind, Namespace: op.Namespace, Name: op.Name, ResourceVersion: op.ResourceVersion}
			if op.Object != nil {
				var err error
				if w.Object, err = c.typed(op.Object); err != nil {
					return nil, err
				}
			}
			if op.Delete != (store.DeleteOptions{}) {
				w.DeleteOptions = &wirepb.DeleteOptions{PropagationPolicy: op.Delete.PropagationPolicy,
					Preconditions: &wirepb.Preconditions{Uid: op.Delete.UID, ResourceVersion: op.Delete.ResourceVersion}}
			}
			t.Ops = append(t.Ops, w)
		}
		return proto.Marshal(t)
	}
	t := transactionJSON{APIVersion: InternalGroup + "/v1", Kind: "Transaction"}
	for _, op := range ops {
		j := txnOpJSON{Op: TxnOpNames[op.Type], Kind: op.Kind, Namespace: op.Namespace, Name: op.Name, ResourceVersion: FlexInt(op.ResourceVersion)}
		if op.Object != nil {
			b, err := c.objectJSON(op.Object)
			if err != nil {
				return nil, err
			}
			j.Object = b
		}
		if op.Delete != (store.DeleteOptions{}) {
			j.DeleteOptions = &DeleteOptionsJSON{PropagationPolicy: op.Delete.PropagationPolicy}
			j.DeleteOptions.Preconditions = &struct {
				UID             string  `json:"uid,omitempty"`
				ResourceVersion FlexInt `json:"resourceVersion,omitempty"`
			}{op.Delete.UID, FlexInt(op.Delete.ResourceVersion)}
		}
		t.Ops = append(t.Ops, j)
	}
	return json.Marshal(t)
}

// DecodeTxn reads a transaction request (server side).
func (c Codec) DecodeTxn(data []byte, f Format) ([]store.Op, error) {
	var ops []store.Op
	switch f {
	case FormatProtobuf:
		var t wirepb.Transaction
		if err := proto.Unmarshal(data, &t); err != nil {
			return nil, err
		}
		for i, w := range t.GetOps() {
			op, err := c.txnOp(i, w.GetOp(), w.GetKind(), w.GetNamespace(), w.GetName(), w.GetResourceVersion())
			if err != nil {
				return nil, err
			}
			if w.GetObject() != nil {
				if op.Object, err = c.fromTyped(w.GetObject()); err != nil {
					return nil, fmt.Errorf("op %d: %w", i, err)
				}
			}
			if d := w.GetDeleteOptions(); d != nil {
				SetDeleteOptions(&op.Delete, d.GetPropagationPolicy(), d.GetPreconditions().GetUid(), d.GetPreconditions().GetResourceVersion())
			}
			ops = append(ops, op)
		}
	case FormatJSON:
		var t transactionJSON
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, err
		}
		if t.Kind != "" && t.Kind != "Transaction" {
			return nil, fmt.Errorf("kind %q, want Transaction", t.Kind)
		}
		for i, j := range t.Ops {
			op, err := c.txnOp(i, j.Op, j.Kind, j.Namespace, j.Name, int64(j.ResourceVersion))
			if err != nil {
				return nil, err
			}
			if len(j.Object) > 0 && string(j.Object) != "null" {
				if op.Object, err = c.decodeManifest(j.Object, c.Reg); err != nil {
					return nil, fmt.Errorf("op %d: %w", i, err)
				}
			}
			if d := j.DeleteOptions; d != nil {
				var uid string
				var rv int64
				if d.Preconditions != nil {
					uid, rv = d.Preconditions.UID, int64(d.Preconditions.ResourceVersion)
				}
				SetDeleteOptions(&op.Delete, d.PropagationPolicy, uid, rv)
			}
			ops = append(ops, op)
		}
	default:
		return nil, fmt.Errorf("send transactions as JSON or protobuf")
	}
	for i, op := range ops {
		switch op.Type {
		case store.OpCreate, store.OpUpdate, store.OpUpdateStatus:
			if op.Object == nil {
				return nil, fmt.Errorf("op %d (%s): object is required", i, TxnOpNames[op.Type])
			}
		default:
			if op.Kind == "" || op.Name == "" {
				return nil, fmt.Errorf("op %d (%s): kind and name are required", i, TxnOpNames[op.Type])
			}
		}
	}
	return ops, nil
}

func (c Codec) txnOp(i int, name, kind, ns, objName string, rv int64) (store.Op, error) {
	t, ok := txnOpType(name)
	if !ok {
		return store.Op{}, fmt.Errorf("op %d: unknown op %q (want create, update, updateStatus, delete or check)", i, name)
	}
	return store.Op{Type: t, Kind: kind, Namespace: ns, Name: objName, ResourceVersion: rv}, nil
}

// EncodeTxnResult writes a transaction's results (server side).
func (c Codec) EncodeTxnResult(res []api.Object, f Format) ([]byte, error) {
	if f == FormatProtobuf {
		t := &wirepb.TransactionResult{}
		for _, obj := range res {
			r := &wirepb.TxnResult{}
			if obj != nil {
				var err error
				if r.Object, err = c.typed(obj); err != nil {
					return nil, err
				}
			}
			t.Results = append(t.Results, r)
		}
		return proto.Marshal(t)
	}
	t := txnResultJSON{APIVersion: InternalGroup + "/v1", Kind: "TransactionResult", Items: make([]json.RawMessage, 0, len(res))}
	for _, obj := range res {
		if obj == nil {
			t.Items = append(t.Items, json.RawMessage("null"))
			continue
		}
		b, err := c.objectJSON(obj)
		if err != nil {
			return nil, err
		}
		t.Items = append(t.Items, b)
	}
	return json.Marshal(t)
}

// DecodeTxnResult reads a transaction's results (client side).
func (c Codec) DecodeTxnResult(data []byte, f Format) ([]api.Object, error) {
	var out []api.Object
	if f == FormatProtobuf {
		var t wirepb.TransactionResult
		if err := proto.Unmarshal(data, &t); err != nil {
			return nil, err
		}
		for _, r := range t.GetResults() {
			if r.GetObject() == nil {
				out = append(out, nil)
				continue
			}
			obj, err := c.fromTyped(r.GetObject())
			if err != nil {
				return nil, err
			}
			out = append(out, obj)
		}
		return out, nil
	}
	var t txnResultJSON
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, err
	}
	for _, raw := range t.Items {
		if string(raw) == "null" {
			out = append(out, nil)
			continue
		}
		obj, err := c.decodeManifest(raw, c.Reg)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// DeleteOptionsJSON is the JSON body of a DELETE, as in Kubernetes.
type DeleteOptionsJSON struct {
	APIVersion         string `json:"apiVersion,omitempty"`
	Kind               string `json:"kind,omitempty"`
	PropagationPolicy  string `json:"propagationPolicy,omitempty"`
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
	Preconditions      *struct {
		UID             string  `json:"uid,omitempty"`
		ResourceVersion FlexInt `json:"resourceVersion,omitempty"`
	} `json:"preconditions,omitempty"`
}

// SetDeleteOptions sets the options a DELETE body or query names (empty
// values leave opts as they are).
func SetDeleteOptions(opts *store.DeleteOptions, policy, uid string, rv int64) {
	if policy != "" {
		opts.PropagationPolicy = policy
	}
	if uid != "" {
		opts.UID = uid
	}
	if rv != 0 {
		opts.ResourceVersion = rv
	}
}
