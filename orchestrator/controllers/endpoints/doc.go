// Package endpoints is the Endpoints controller: for every Service with a
// selector it keeps an Endpoints object of the same name listing the
// addresses of the pods the selector matches.
//
// A pod with an IP that is not terminating and not finished is listed:
// under addresses when its Ready condition is True (or the Service sets
// publishNotReadyAddresses), else under notReadyAddresses. Each service
// port's targetPort is resolved per pod: a number as is, a name through the
// pod's container ports of that name (a pod without it is left out for that
// port), none as the service port. Pods that resolve to the same ports share
// a subset; addresses are sorted by IP so the object only changes when the
// membership does.
//
// A Service without a selector is left alone (its Endpoints are the
// user's); when a Service goes, so do its Endpoints.
package endpoints
