package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote/internal/wire"
	"github.com/coxswain-io/coxswain/store/remote/wirepb"
)

// resourceRequest is a parsed resource path.
type resourceRequest struct {
	info      api.KindInfo
	namespace string
	name      string
	sub       string
}

func notFoundPath(r *http.Request, format string, args ...any) error {
	return wire.NewRequestError(http.StatusNotFound, ReasonNotFound, fmt.Errorf("%s: %s", r.URL.Path, fmt.Sprintf(format, args...)))
}

// parseResourcePath resolves /api/{version}/... and
// /apis/{group}/{version}/... to a kind, namespace, name and subresource.
func (s *Server) parseResourcePath(r *http.Request) (resourceRequest, error) {
	group, version := r.PathValue("group"), r.PathValue("version")
	gv := version
	if group != "" {
		gv = group + "/" + version
	}
	segs := strings.Split(r.PathValue("rest"), "/")
	for _, seg := range segs {
		if seg == "" {
			return resourceRequest{}, notFoundPath(r, "empty path segment")
		}
	}
	reg := s.codec.Reg
	lookup := func(resource string) (api.KindInfo, bool) {
		info, err := reg.LookupResource(group, resource)
		return info, err == nil && info.APIVersion == gv
	}
	var rr resourceRequest
	rest := segs
	if len(segs) >= 3 && segs[0] == "namespaces" {
		if info, ok := lookup(segs[2]); ok && info.Scope == api.Namespaced {
			rr.info, rr.namespace, rest = info, segs[1], segs[3:]
		}
	}
	if rr.info.Kind == "" {
		info, ok := lookup(segs[0])
		if !ok {
			return rr, notFoundPath(r, "the server does not serve resource %q in %s", segs[0], gv)
		}
		rr.info, rest = info, segs[1:]
		if info.Scope == api.Namespaced && len(rest) > 0 {
			return rr, notFoundPath(r, "%s is namespaced: use /%s/namespaces/{namespace}/%s/%s", info.Resource, wire.APIPrefix(info), info.Resource, rest[0])
		}
	}
	switch len(rest) {
	case 0:
	case 1:
		rr.name = rest[0]
	case 2:
		rr.name, rr.sub = rest[0], rest[1]
	default:
		return rr, notFoundPath(r, "too many path segments")
	}
	switch rr.sub {
	case "":
	case "status":
		if !rr.info.HasStatus() {
			return rr, notFoundPath(r, "%s has no status subresource", rr.info.Resource)
		}
	case "scale":
		if !scalable(rr.info) {
			return rr, notFoundPath(r, "%s has no scale subresource", rr.info.Resource)
		}
	default:
		return rr, notFoundPath(r, "unknown subresource %q", rr.sub)
	}
	return rr, nil
}

func (s *Server) handleResource(w http.ResponseWriter, r *http.Request) {
	rr, err := s.parseResourcePath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fail := func(err error) { s.writeResourceError(w, r, rr, err) }
	a := Attributes{APIGroup: rr.info.Group(), Resource: rr.info.Resource, Subresource: rr.sub, Namespace: rr.namespace, Name: rr.name}
	var handle func(http.ResponseWriter, *http.Request, resourceRequest) error
	switch {
	case rr.name == "":
		switch r.Method {
		case http.MethodGet:
			watch, err := queryBool(r, "watch")
			if err != nil {
				fail(err)
				return
			}
			a.Verb, handle = "list", s.list
			if watch {
				a.Verb, handle = "watch", s.watch
			}
		case http.MethodPost:
			if rr.info.Scope == api.Namespaced && rr.namespace == "" {
				fail(wire.NewBadRequest(fmt.Errorf("%s is namespaced: POST to /%s/namespaces/{namespace}/%s", rr.info.Resource, wire.APIPrefix(rr.info), rr.info.Resource)))
				return
			}
			a.Verb, handle = "create", s.create
		default:
			fail(methodNotAllowed(r, http.MethodGet, http.MethodPost))
			return
		}
	case rr.sub == "":
		switch r.Method {
		case http.MethodGet:
			a.Verb, handle = "get", s.get
		case http.MethodPut:
			a.Verb, handle = "update", s.update
		case http.MethodDelete:
			a.Verb, handle = "delete", s.delete
		default:
			fail(methodNotAllowed(r, http.MethodGet, http.MethodPut, http.MethodDelete))
			return
		}
	default:
		switch r.Method {
		case http.MethodGet:
			a.Verb, handle = "get", s.get
			if rr.sub == "scale" {
				handle = s.getScale
			}
		case http.MethodPut:
			a.Verb, handle = "update", s.update
			if rr.sub == "scale" {
				handle = s.putScale
			}
		default:
			fail(methodNotAllowed(r, http.MethodGet, http.MethodPut))
			return
		}
	}
	res := rr.info.Resource
	if rr.sub != "" {
		res += "/" + rr.sub
	}
	if rr.info.Group() != "" {
		res += "." + rr.info.Group()
	}
	setInfo(r, a.Verb, res)
	if a.Verb != "watch" {
		var cancel context.CancelFunc
		r, cancel = s.withTimeout(r)
		defer cancel()
	}
	if err := s.authorize(r, a); err != nil {
		fail(err)
		return
	}
	if err := handle(w, r, rr); err != nil {
		fail(err)
	}
}

func readOptions(r *http.Request) ([]store.ReadOption, error) {
	lin, err := queryBool(r, "linearizable")
	if err != nil || !lin {
		return nil, err
	}
	return []store.ReadOption{store.Linearizable()}, nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	opts, err := readOptions(r)
	if err != nil {
		return err
	}
	obj, err := s.st.Get(r.Context(), rr.info.Kind, rr.namespace, rr.name, opts...)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, obj)
	return nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	lin, err := queryBool(r, "linearizable")
	if err != nil {
		return err
	}
	res, err := s.st.List(r.Context(), rr.info.Kind, store.ListOptions{
		Namespace:     rr.namespace,
		LabelSelector: q.Get("labelSelector"),
		FieldSelector: q.Get("fieldSelector"),
		Limit:         limit,
		Continue:      q.Get("continue"),
		Linearizable:  lin,
	})
	if err != nil {
		return err
	}
	f := wire.ResponseFormat(r.Header.Get("Accept"))
	b, err := s.codec.EncodeList(rr.info, res, f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", f.MediaType())
	_, _ = w.Write(b)
	return nil
}

// decodeBodyObject reads the object of a create or update and checks it
// against the path.
func (s *Server) decodeBodyObject(w http.ResponseWriter, r *http.Request, rr resourceRequest) (api.Object, error) {
	data, f, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	obj, err := s.codec.DecodeObject(data, f)
	if err != nil {
		return nil, wire.NewBadRequest(fmt.Errorf("decode %s body: %w", f.MediaType(), err))
	}
	info, err := s.codec.Reg.KindOf(obj)
	if err != nil {
		return nil, wire.NewBadRequest(err)
	}
	if info.Kind != rr.info.Kind {
		return nil, wire.NewBadRequest(fmt.Errorf("body is a %s, but the path is for %s", info.Kind, rr.info.Kind))
	}
	m := api.Meta(obj)
	if rr.info.Scope == api.Namespaced {
		switch m.GetNamespace() {
		case "":
			m.Namespace = rr.namespace
		case rr.namespace:
		default:
			return nil, wire.NewBadRequest(fmt.Errorf("metadata.namespace %q does not match the path's namespace %q", m.GetNamespace(), rr.namespace))
		}
	}
	if rr.name != "" {
		switch m.GetName() {
		case "":
			m.Name = rr.name
		case rr.name:
		default:
			return nil, wire.NewBadRequest(fmt.Errorf("metadata.name %q does not match the path's name %q", m.GetName(), rr.name))
		}
	}
	return obj, nil
}

// checkEscalation asks the authorizer, if it can tell, whether writing obj
// grants more than the caller holds.
func (s *Server) checkEscalation(r *http.Request, obj api.Object) error {
	ec, ok := s.cfg.Authorizer.(EscalationChecker)
	if !ok {
		return nil
	}
	return ec.CheckEscalation(r.Context(), UserFrom(r.Context()), obj)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	obj, err := s.decodeBodyObject(w, r, rr)
	if err != nil {
		return err
	}
	if err := s.checkEscalation(r, obj); err != nil {
		return err
	}
	// obj was decoded for this request and out is only encoded: neither
	// needs a copy of its own.
	out, err := s.st.Create(r.Context(), obj, store.Consume(), store.SharedResult())
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusCreated, out)
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	obj, err := s.decodeBodyObject(w, r, rr)
	if err != nil {
		return err
	}
	if err := s.checkEscalation(r, obj); err != nil {
		return err
	}
	var out api.Object
	if rr.sub == "status" {
		out, err = s.st.UpdateStatus(r.Context(), obj, store.Consume(), store.SharedResult())
	} else {
		out, err = s.st.Update(r.Context(), obj, store.Consume(), store.SharedResult())
	}
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, out)
	return nil
}

// parseDeleteOptions reads options from the query (propagationPolicy,
// preconditions.uid, preconditions.resourceVersion) and, if present, the
// body; the body wins.
func (s *Server) parseDeleteOptions(w http.ResponseWriter, r *http.Request) (store.DeleteOptions, error) {
	q := r.URL.Query()
	opts := store.DeleteOptions{PropagationPolicy: q.Get("propagationPolicy"), UID: q.Get("preconditions.uid")}
	var err error
	if opts.ResourceVersion, err = queryInt(r, "preconditions.resourceVersion"); err != nil {
		return opts, err
	}
	data, f, err := s.readBody(w, r)
	if err != nil {
		return opts, err
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := decodeDeleteOptions(data, f, &opts); err != nil {
			return opts, wire.NewBadRequest(fmt.Errorf("delete options: %w", err))
		}
	}
	switch opts.PropagationPolicy {
	case "", store.PropagationBackground, store.PropagationForeground, store.PropagationOrphan:
	default:
		return opts, wire.NewBadRequest(fmt.Errorf("propagationPolicy %q: want Background, Foreground or Orphan", opts.PropagationPolicy))
	}
	return opts, nil
}

func decodeDeleteOptions(data []byte, f wire.Format, opts *store.DeleteOptions) error {
	if f == wire.FormatProtobuf {
		var d wirepb.DeleteOptions
		if err := proto.Unmarshal(data, &d); err != nil {
			return err
		}
		wire.SetDeleteOptions(opts, d.GetPropagationPolicy(), d.GetPreconditions().GetUid(), d.GetPreconditions().GetResourceVersion())
		return nil
	}
	if f == wire.FormatYAML {
		return errors.New("send delete options as JSON or protobuf")
	}
	var d wire.DeleteOptionsJSON
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return err
	}
	if d.Kind != "" && d.Kind != "DeleteOptions" {
		return fmt.Errorf("kind %q, want DeleteOptions", d.Kind)
	}
	var uid string
	var rv int64
	if d.Preconditions != nil {
		uid, rv = d.Preconditions.UID, int64(d.Preconditions.ResourceVersion)
	}
	wire.SetDeleteOptions(opts, d.PropagationPolicy, uid, rv)
	return nil
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	opts, err := s.parseDeleteOptions(w, r)
	if err != nil {
		return err
	}
	out, err := s.st.Delete(r.Context(), rr.info.Kind, rr.namespace, rr.name, opts)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, out)
	return nil
}

// scalable reports whether a kind has spec.replicas (int32) and so a scale
// subresource: Deployment, ReplicaSet, ReplicationController and custom
// kinds of the same shape.
func scalable(info api.KindInfo) bool {
	spec := info.New().ProtoReflect().Descriptor().Fields().ByName("spec")
	if spec == nil || spec.Message() == nil {
		return false
	}
	fd := spec.Message().Fields().ByName("replicas")
	return fd != nil && fd.Kind() == protoreflect.Int32Kind && !fd.IsList()
}

func specMessage(obj api.Object) protoreflect.Message {
	m := obj.ProtoReflect()
	return m.Mutable(m.Descriptor().Fields().ByName("spec")).Message()
}

// toScale describes obj's scale.
func toScale(obj api.Object) *api.Scale {
	md := obj.GetMetadata()
	sc := &api.Scale{
		Metadata: &api.ObjectMeta{Name: md.GetName(), Namespace: md.GetNamespace(), Uid: md.GetUid(), ResourceVersion: md.GetResourceVersion(), CreationTimestamp: md.GetCreationTimestamp()},
		Spec:     &api.ScaleSpec{},
		Status:   &api.ScaleStatus{},
	}
	m := obj.ProtoReflect()
	specFD := m.Descriptor().Fields().ByName("spec")
	spec := m.Get(specFD).Message()
	rfd := spec.Descriptor().Fields().ByName("replicas")
	if spec.Has(rfd) || !rfd.HasPresence() {
		sc.Spec.Replicas = int32(spec.Get(rfd).Int())
	} else {
		sc.Spec.Replicas = 1 // an unset replicas means one, as in Kubernetes
	}
	if sfd := spec.Descriptor().Fields().ByName("selector"); sfd != nil {
		switch {
		case sfd.Message() != nil && sfd.Message().FullName() == (&api.LabelSelector{}).ProtoReflect().Descriptor().FullName():
			if ls, ok := spec.Get(sfd).Message().Interface().(*api.LabelSelector); ok && spec.Has(sfd) {
				if sel, err := labels.FromLabelSelector(ls); err == nil {
					sc.Status.Selector = sel.String()
				}
			}
		case sfd.IsMap():
			set := labels.Set{}
			spec.Get(sfd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				set[k.String()] = v.String()
				return true
			})
			if len(set) > 0 {
				sc.Status.Selector = labels.SelectorFromSet(set).String()
			}
		}
	}
	if stFD := m.Descriptor().Fields().ByName("status"); stFD != nil && stFD.Message() != nil {
		st := m.Get(stFD).Message()
		if fd := st.Descriptor().Fields().ByName("replicas"); fd != nil && fd.Kind() == protoreflect.Int32Kind {
			sc.Status.Replicas = int32(st.Get(fd).Int())
		}
	}
	return sc
}

func (s *Server) getScale(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	obj, err := s.st.Get(r.Context(), rr.info.Kind, rr.namespace, rr.name)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, toScale(obj))
	return nil
}

// putScale sets spec.replicas. A resourceVersion in the Scale is a
// precondition; without one the update is retried on conflict.
func (s *Server) putScale(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	data, f, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	sc, err := s.codec.DecodeScale(data, f)
	if err != nil {
		return wire.NewBadRequest(fmt.Errorf("decode Scale: %w", err))
	}
	if n := sc.GetMetadata().GetName(); n != "" && n != rr.name {
		return wire.NewBadRequest(fmt.Errorf("metadata.name %q does not match the path's name %q", n, rr.name))
	}
	if sc.GetSpec().GetReplicas() < 0 {
		return store.Errorf(store.ErrInvalid, "spec.replicas: must be non-negative, got %d", sc.GetSpec().GetReplicas())
	}
	want := sc.GetMetadata().GetResourceVersion()
	for attempt := 0; ; attempt++ {
		obj, err := s.st.Get(r.Context(), rr.info.Kind, rr.namespace, rr.name)
		if err != nil {
			return err
		}
		if want != 0 {
			api.Meta(obj).ResourceVersion = want
		}
		spec := specMessage(obj)
		spec.Set(spec.Descriptor().Fields().ByName("replicas"), protoreflect.ValueOfInt32(sc.GetSpec().GetReplicas()))
		out, err := s.st.Update(r.Context(), obj, store.Consume(), store.SharedResult())
		if errors.Is(err, store.ErrConflict) && want == 0 && attempt < 5 {
			continue
		}
		if err != nil {
			return err
		}
		s.writeObject(w, r, http.StatusOK, toScale(out))
		return nil
	}
}

// watch streams events until the client goes, the store ends the watch, or
// the timeout passes. The stream starts after resourceVersion (0: the
// current revision, reported in HeaderWatchRevision). If the store ends the
// watch with an error, a final ERROR event carries its Status.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, rr resourceRequest) error {
	q := r.URL.Query()
	rev, err := queryInt(r, "resourceVersion")
	if err != nil {
		return err
	}
	bookmarks, err := queryBool(r, "allowWatchBookmarks")
	if err != nil {
		return err
	}
	timeoutSec, err := queryInt(r, "timeoutSeconds")
	if err != nil {
		return err
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return errors.New("response writer cannot stream")
	}
	ctx := r.Context()
	timeout := time.Duration(timeoutSec) * time.Second
	if s.cfg.MaxWatchTimeout > 0 && (timeout == 0 || timeout > s.cfg.MaxWatchTimeout) {
		timeout = s.cfg.MaxWatchTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if rev == 0 {
		if rev, err = s.st.Revision(ctx); err != nil {
			return err
		}
	}
	wt, err := s.st.Watch(ctx, rr.info.Kind, store.WatchOptions{
		Namespace:     rr.namespace,
		Revision:      rev,
		LabelSelector: q.Get("labelSelector"),
		FieldSelector: q.Get("fieldSelector"),
		Bookmarks:     bookmarks,
	})
	if err != nil {
		return err
	}
	defer wt.Stop()
	f := wire.ResponseFormat(r.Header.Get("Accept"))
	h := w.Header()
	h.Set("Content-Type", f.MediaType())
	h.Set(HeaderWatchRevision, strconv.FormatInt(rev, 10))
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	if s.metrics != nil {
		g := s.metrics.watches.WithLabelValues(rr.info.Resource)
		g.Inc()
		defer g.Dec()
	}
	// A client that stops reading would hold this handler forever: every
	// write must finish within RequestTimeout.
	rc := http.NewResponseController(w)
	// The deadline stays on a kept-alive connection: clear it for the next
	// request.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	ch := wt.Events()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-ch:
			if !ok {
				if err := wt.Err(); err != nil && ctx.Err() == nil {
					if b, eerr := s.codec.EncodeErrorEvent(wire.StatusFor(err), f); eerr == nil {
						_, _ = w.Write(b)
						flusher.Flush()
					}
				}
				return nil
			}
			b, err := s.codec.EncodeEvent(rr.info, ev, f)
			if err != nil {
				s.cfg.Logger.Error("remote: encode watch event", "kind", rr.info.Kind, "err", err)
				return nil
			}
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
			if _, err := w.Write(b); err != nil {
				return nil
			}
			if len(ch) == 0 {
				flusher.Flush()
			}
		}
	}
}
