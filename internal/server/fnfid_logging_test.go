package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestFnfid_LoggingConfigLevels: as Lambda answers, JSON logs carry
// ApplicationLogLevel and SystemLogLevel (INFO unless set, kept across
// partial updates) and text logs carry neither.
func TestFnfid_LoggingConfigLevels(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("fn", func(in *lambda.CreateFunctionInput) {
		in.LoggingConfig = &types.LoggingConfig{LogFormat: types.LogFormatJson}
	})
	group := "/aws/lambda/fn"
	read := func() *types.LoggingConfig {
		t.Helper()
		out, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("fn")})
		if err != nil {
			t.Fatalf("get configuration: %v", err)
		}
		return out.LoggingConfig
	}
	update := func(lc *types.LoggingConfig) *types.LoggingConfig {
		t.Helper()
		out, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), LoggingConfig: lc})
		if err != nil {
			t.Fatalf("update logging config %+v: %v", lc, err)
		}
		return out.LoggingConfig
	}
	steps := []struct {
		name string
		got  func() *types.LoggingConfig
		want types.LoggingConfig
	}{
		{"created JSON", read, types.LoggingConfig{LogFormat: types.LogFormatJson, LogGroup: &group, ApplicationLogLevel: types.ApplicationLogLevelInfo, SystemLogLevel: types.SystemLogLevelInfo}},
		{"application level only", func() *types.LoggingConfig {
			return update(&types.LoggingConfig{LogFormat: types.LogFormatJson, ApplicationLogLevel: types.ApplicationLogLevelDebug})
		}, types.LoggingConfig{LogFormat: types.LogFormatJson, LogGroup: &group, ApplicationLogLevel: types.ApplicationLogLevelDebug, SystemLogLevel: types.SystemLogLevelInfo}},
		{"read back", read, types.LoggingConfig{LogFormat: types.LogFormatJson, LogGroup: &group, ApplicationLogLevel: types.ApplicationLogLevelDebug, SystemLogLevel: types.SystemLogLevelInfo}},
		{"switched to Text", func() *types.LoggingConfig {
			return update(&types.LoggingConfig{LogFormat: types.LogFormatText})
		}, types.LoggingConfig{LogFormat: types.LogFormatText, LogGroup: &group}},
		{"Text read back", read, types.LoggingConfig{LogFormat: types.LogFormatText, LogGroup: &group}},
	}
	for _, s := range steps {
		got := s.got()
		if got == nil {
			t.Fatalf("%s: no LoggingConfig", s.name)
		}
		if g, w := logging(*got), logging(s.want); g != w {
			t.Errorf("%s: got LoggingConfig %s, want %s", s.name, g, w)
		}
	}

	_, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName:  aws.String("fn"),
		LoggingConfig: &types.LoggingConfig{LogFormat: types.LogFormatJson, SystemLogLevel: "LOUD"},
	})
	apiErr(t, err, "ValidationException", "Value 'LOUD' at 'loggingConfig.systemLogLevel' failed to satisfy constraint: Member must satisfy enum value set: [DEBUG, INFO, WARN]")
}

func logging(c types.LoggingConfig) string {
	return fmt.Sprintf("{LogFormat:%s LogGroup:%s ApplicationLogLevel:%s SystemLogLevel:%s}", c.LogFormat, aws.ToString(c.LogGroup), c.ApplicationLogLevel, c.SystemLogLevel)
}
