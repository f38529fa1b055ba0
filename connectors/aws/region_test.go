package aws

import (
	"errors"
	"net"
	"strings"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A region AWS does not have is a host DNS does not know: the error says
// which region to check, and where it came from. Other failures to reach
// STS are said as the network's.
func TestUnreachableSTSNamesTheRegion(t *testing.T) {
	noHost := &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "sts.us-esat-1.amazonaws.com", IsNotFound: true}}}
	for _, tc := range []struct {
		send        *smithyhttp.RequestSendError
		region      string
		flag        bool
		want, never string
	}{
		{noHost, "us-esat-1", true, `sts.us-esat-1.amazonaws.com has no address, so "us-esat-1" may not be an AWS region: check --region`, ""},
		{noHost, "us-esat-1", false, `check the region the SDK was given (AWS_REGION, or the profile's region)`, "--region"},
		{&smithyhttp.RequestSendError{Err: errors.New("connection refused")}, "us-east-1", true, "cannot reach AWS STS (sts:GetCallerIdentity: connection refused): check the network", "region"},
	} {
		got := unreachableSTS(tc.send, tc.region, tc.flag).Error()
		if !strings.Contains(got, tc.want) || tc.never != "" && strings.Contains(got, tc.never) {
			t.Errorf("%v in %s: %s\nwant %q", tc.send.Err, tc.region, got, tc.want)
		}
	}
}
