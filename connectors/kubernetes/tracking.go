package kubernetes

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// Since Kubernetes 1.26 the API server labels a legacy token with the day
// it was used (kubernetes.io/legacy-token-last-used), and records in one
// ConfigMap the day it began doing so. A token without the label was not
// used since then, or since it was created if that is later: before, it
// may have been, every day. Where nothing says since when (an API server
// before 1.26, the ConfigMap not readable, a label that is no date), a
// token without a readable label is no evidence of disuse, and its
// use_tracked_since says "unknown" (audit/findings_k8s.go).

// Where the API server says since when it records legacy token use.
const (
	trackingNamespace = "kube-system"
	trackingConfigMap = "kube-apiserver-legacy-service-account-token-tracking"
	trackingKey       = "since"
)

// AttrUseTrackedSince, on a legacy token, is when the API server began
// recording its uses (RFC 3339), or "unknown".
const AttrUseTrackedSince = "use_tracked_since"

// trackedUnknown is AttrUseTrackedSince where nothing says.
const trackedUnknown = "unknown"

// NotTrackedNote is said once per snapshot whose API server does not say
// since when it records legacy token use.
const NotTrackedNote = "the API server does not say since when it records legacy token use (no ConfigMap " + trackingNamespace + "/" + trackingConfigMap + ": before Kubernetes 1.26, or tracking is off): a legacy token without a last-used label may have been used, and none is called unused"

// trackedSince reads since when the API server records legacy token use:
// the ConfigMap's creation time when it was made on the day it names (as
// the API server makes it), else the start of that day. "unknown" when
// it cannot say; a credential that may not read it is a gap.
func (c *Connector) trackedSince(ctx context.Context, r connectors.Recorder) (string, error) {
	gctx, cancel := c.withTimeout(ctx)
	defer cancel()
	cm, err := c.core.CoreV1().ConfigMaps(trackingNamespace).Get(gctx, trackingConfigMap, metav1.GetOptions{})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return "", ctx.Err()
	case apierrors.IsUnauthorized(err):
		return "", c.rejected(err)
	case isNotFound(err):
		c.mu.Lock()
		c.notTracked = true
		c.mu.Unlock()
		return trackedUnknown, nil
	default:
		where := trackingNamespace + "/" + trackingConfigMap
		reason := "cannot read since when the API server records legacy token use (ConfigMap " + where + "): " + shortErr(err) + "; a legacy token without a last-used label is not called unused"
		if isForbidden(err) {
			reason = "forbidden: the credential may not get the ConfigMap " + where + ", which says since when the API server records legacy token use; a legacy token without a last-used label is not called unused (docs/kubernetes.md: Permissions nhi needs)"
		}
		status := 0
		var se apierrors.APIStatus
		if errors.As(err, &se) {
			status = int(se.Status().Code)
		}
		return trackedUnknown, r.Gap(audit.Gap{Endpoint: "get configmaps " + where, Kind: audit.KindK8sSAToken, Scope: c.name, Status: status, Reason: reason})
	}
	day, err := time.Parse(time.DateOnly, cm.Data[trackingKey])
	if err != nil {
		return trackedUnknown, nil
	}
	if made := cm.CreationTimestamp.UTC(); made.Truncate(24 * time.Hour).Equal(day) {
		return made.Format(time.RFC3339), nil
	}
	return day.Format(time.RFC3339), nil
}
