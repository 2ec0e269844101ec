// Original file: proto/credits/v1/credits.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyCheckoutRequest as _credits_v1_ApplyCheckoutRequest, ApplyCheckoutRequest__Output as _credits_v1_ApplyCheckoutRequest__Output } from '../../credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse as _credits_v1_ApplyCheckoutResponse, ApplyCheckoutResponse__Output as _credits_v1_ApplyCheckoutResponse__Output } from '../../credits/v1/ApplyCheckoutResponse';
import type { GetBalanceRequest as _credits_v1_GetBalanceRequest, GetBalanceRequest__Output as _credits_v1_GetBalanceRequest__Output } from '../../credits/v1/GetBalanceRequest';
import type { GetBalanceResponse as _credits_v1_GetBalanceResponse, GetBalanceResponse__Output as _credits_v1_GetBalanceResponse__Output } from '../../credits/v1/GetBalanceResponse';
import type { ResolveUserRequest as _credits_v1_ResolveUserRequest, ResolveUserRequest__Output as _credits_v1_ResolveUserRequest__Output } from '../../credits/v1/ResolveUserRequest';
import type { ResolveUserResponse as _credits_v1_ResolveUserResponse, ResolveUserResponse__Output as _credits_v1_ResolveUserResponse__Output } from '../../credits/v1/ResolveUserResponse';

export interface CreditsServiceClient extends grpc.Client {
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  
  GetBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _credits_v1_GetBalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _credits_v1_GetBalanceRequest, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  
  ResolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _credits_v1_ResolveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _credits_v1_ResolveUserRequest, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CreditsServiceHandlers extends grpc.UntypedServiceImplementation {
  ApplyCheckout: grpc.handleUnaryCall<_credits_v1_ApplyCheckoutRequest__Output, _credits_v1_ApplyCheckoutResponse>;
  
  GetBalance: grpc.handleUnaryCall<_credits_v1_GetBalanceRequest__Output, _credits_v1_GetBalanceResponse>;
  
  ResolveUser: grpc.handleUnaryCall<_credits_v1_ResolveUserRequest__Output, _credits_v1_ResolveUserResponse>;
  
}

export interface CreditsServiceDefinition extends grpc.ServiceDefinition {
  ApplyCheckout: MethodDefinition<_credits_v1_ApplyCheckoutRequest, _credits_v1_ApplyCheckoutResponse, _credits_v1_ApplyCheckoutRequest__Output, _credits_v1_ApplyCheckoutResponse__Output>
  GetBalance: MethodDefinition<_credits_v1_GetBalanceRequest, _credits_v1_GetBalanceResponse, _credits_v1_GetBalanceRequest__Output, _credits_v1_GetBalanceResponse__Output>
  ResolveUser: MethodDefinition<_credits_v1_ResolveUserRequest, _credits_v1_ResolveUserResponse, _credits_v1_ResolveUserRequest__Output, _credits_v1_ResolveUserResponse__Output>
}
