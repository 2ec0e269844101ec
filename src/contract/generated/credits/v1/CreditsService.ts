// Original file: proto/credits/v1/credits.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyCheckoutRequest as _credits_v1_ApplyCheckoutRequest, ApplyCheckoutRequest__Output as _credits_v1_ApplyCheckoutRequest__Output } from '../../credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse as _credits_v1_ApplyCheckoutResponse, ApplyCheckoutResponse__Output as _credits_v1_ApplyCheckoutResponse__Output } from '../../credits/v1/ApplyCheckoutResponse';
import type { ApplyStripeEventRequest as _credits_v1_ApplyStripeEventRequest, ApplyStripeEventRequest__Output as _credits_v1_ApplyStripeEventRequest__Output } from '../../credits/v1/ApplyStripeEventRequest';
import type { ApplyStripeEventResponse as _credits_v1_ApplyStripeEventResponse, ApplyStripeEventResponse__Output as _credits_v1_ApplyStripeEventResponse__Output } from '../../credits/v1/ApplyStripeEventResponse';
import type { CaptureReservationRequest as _credits_v1_CaptureReservationRequest, CaptureReservationRequest__Output as _credits_v1_CaptureReservationRequest__Output } from '../../credits/v1/CaptureReservationRequest';
import type { CaptureReservationResponse as _credits_v1_CaptureReservationResponse, CaptureReservationResponse__Output as _credits_v1_CaptureReservationResponse__Output } from '../../credits/v1/CaptureReservationResponse';
import type { GetBalanceRequest as _credits_v1_GetBalanceRequest, GetBalanceRequest__Output as _credits_v1_GetBalanceRequest__Output } from '../../credits/v1/GetBalanceRequest';
import type { GetBalanceResponse as _credits_v1_GetBalanceResponse, GetBalanceResponse__Output as _credits_v1_GetBalanceResponse__Output } from '../../credits/v1/GetBalanceResponse';
import type { ListTransactionsRequest as _credits_v1_ListTransactionsRequest, ListTransactionsRequest__Output as _credits_v1_ListTransactionsRequest__Output } from '../../credits/v1/ListTransactionsRequest';
import type { ListTransactionsResponse as _credits_v1_ListTransactionsResponse, ListTransactionsResponse__Output as _credits_v1_ListTransactionsResponse__Output } from '../../credits/v1/ListTransactionsResponse';
import type { ReleaseReservationRequest as _credits_v1_ReleaseReservationRequest, ReleaseReservationRequest__Output as _credits_v1_ReleaseReservationRequest__Output } from '../../credits/v1/ReleaseReservationRequest';
import type { ReleaseReservationResponse as _credits_v1_ReleaseReservationResponse, ReleaseReservationResponse__Output as _credits_v1_ReleaseReservationResponse__Output } from '../../credits/v1/ReleaseReservationResponse';
import type { ReserveCreditsRequest as _credits_v1_ReserveCreditsRequest, ReserveCreditsRequest__Output as _credits_v1_ReserveCreditsRequest__Output } from '../../credits/v1/ReserveCreditsRequest';
import type { ReserveCreditsResponse as _credits_v1_ReserveCreditsResponse, ReserveCreditsResponse__Output as _credits_v1_ReserveCreditsResponse__Output } from '../../credits/v1/ReserveCreditsResponse';
import type { ResolveUserRequest as _credits_v1_ResolveUserRequest, ResolveUserRequest__Output as _credits_v1_ResolveUserRequest__Output } from '../../credits/v1/ResolveUserRequest';
import type { ResolveUserResponse as _credits_v1_ResolveUserResponse, ResolveUserResponse__Output as _credits_v1_ResolveUserResponse__Output } from '../../credits/v1/ResolveUserResponse';
import type { SpendCreditsRequest as _credits_v1_SpendCreditsRequest, SpendCreditsRequest__Output as _credits_v1_SpendCreditsRequest__Output } from '../../credits/v1/SpendCreditsRequest';
import type { SpendCreditsResponse as _credits_v1_SpendCreditsResponse, SpendCreditsResponse__Output as _credits_v1_SpendCreditsResponse__Output } from '../../credits/v1/SpendCreditsResponse';

export interface CreditsServiceClient extends grpc.Client {
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  ApplyCheckout(argument: _credits_v1_ApplyCheckoutRequest, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  applyCheckout(argument: _credits_v1_ApplyCheckoutRequest, callback: grpc.requestCallback<_credits_v1_ApplyCheckoutResponse__Output>): grpc.ClientUnaryCall;
  
  ApplyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  ApplyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  ApplyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  ApplyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  applyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  applyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  applyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  applyStripeEvent(argument: _credits_v1_ApplyStripeEventRequest, callback: grpc.requestCallback<_credits_v1_ApplyStripeEventResponse__Output>): grpc.ClientUnaryCall;
  
  CaptureReservation(argument: _credits_v1_CaptureReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  CaptureReservation(argument: _credits_v1_CaptureReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  CaptureReservation(argument: _credits_v1_CaptureReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  CaptureReservation(argument: _credits_v1_CaptureReservationRequest, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  captureReservation(argument: _credits_v1_CaptureReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  captureReservation(argument: _credits_v1_CaptureReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  captureReservation(argument: _credits_v1_CaptureReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  captureReservation(argument: _credits_v1_CaptureReservationRequest, callback: grpc.requestCallback<_credits_v1_CaptureReservationResponse__Output>): grpc.ClientUnaryCall;
  
  GetBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _credits_v1_GetBalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _credits_v1_GetBalanceRequest, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _credits_v1_GetBalanceRequest, callback: grpc.requestCallback<_credits_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  
  ListTransactions(argument: _credits_v1_ListTransactionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  ListTransactions(argument: _credits_v1_ListTransactionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  ListTransactions(argument: _credits_v1_ListTransactionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  ListTransactions(argument: _credits_v1_ListTransactionsRequest, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _credits_v1_ListTransactionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _credits_v1_ListTransactionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _credits_v1_ListTransactionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _credits_v1_ListTransactionsRequest, callback: grpc.requestCallback<_credits_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseReservation(argument: _credits_v1_ReleaseReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  ReleaseReservation(argument: _credits_v1_ReleaseReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  ReleaseReservation(argument: _credits_v1_ReleaseReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  ReleaseReservation(argument: _credits_v1_ReleaseReservationRequest, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _credits_v1_ReleaseReservationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _credits_v1_ReleaseReservationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _credits_v1_ReleaseReservationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  releaseReservation(argument: _credits_v1_ReleaseReservationRequest, callback: grpc.requestCallback<_credits_v1_ReleaseReservationResponse__Output>): grpc.ClientUnaryCall;
  
  ReserveCredits(argument: _credits_v1_ReserveCreditsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  ReserveCredits(argument: _credits_v1_ReserveCreditsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  ReserveCredits(argument: _credits_v1_ReserveCreditsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  ReserveCredits(argument: _credits_v1_ReserveCreditsRequest, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  reserveCredits(argument: _credits_v1_ReserveCreditsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  reserveCredits(argument: _credits_v1_ReserveCreditsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  reserveCredits(argument: _credits_v1_ReserveCreditsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  reserveCredits(argument: _credits_v1_ReserveCreditsRequest, callback: grpc.requestCallback<_credits_v1_ReserveCreditsResponse__Output>): grpc.ClientUnaryCall;
  
  ResolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _credits_v1_ResolveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  ResolveUser(argument: _credits_v1_ResolveUserRequest, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  resolveUser(argument: _credits_v1_ResolveUserRequest, callback: grpc.requestCallback<_credits_v1_ResolveUserResponse__Output>): grpc.ClientUnaryCall;
  
  SpendCredits(argument: _credits_v1_SpendCreditsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  SpendCredits(argument: _credits_v1_SpendCreditsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  SpendCredits(argument: _credits_v1_SpendCreditsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  SpendCredits(argument: _credits_v1_SpendCreditsRequest, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  spendCredits(argument: _credits_v1_SpendCreditsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  spendCredits(argument: _credits_v1_SpendCreditsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  spendCredits(argument: _credits_v1_SpendCreditsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  spendCredits(argument: _credits_v1_SpendCreditsRequest, callback: grpc.requestCallback<_credits_v1_SpendCreditsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CreditsServiceHandlers extends grpc.UntypedServiceImplementation {
  ApplyCheckout: grpc.handleUnaryCall<_credits_v1_ApplyCheckoutRequest__Output, _credits_v1_ApplyCheckoutResponse>;
  
  ApplyStripeEvent: grpc.handleUnaryCall<_credits_v1_ApplyStripeEventRequest__Output, _credits_v1_ApplyStripeEventResponse>;
  
  CaptureReservation: grpc.handleUnaryCall<_credits_v1_CaptureReservationRequest__Output, _credits_v1_CaptureReservationResponse>;
  
  GetBalance: grpc.handleUnaryCall<_credits_v1_GetBalanceRequest__Output, _credits_v1_GetBalanceResponse>;
  
  ListTransactions: grpc.handleUnaryCall<_credits_v1_ListTransactionsRequest__Output, _credits_v1_ListTransactionsResponse>;
  
  ReleaseReservation: grpc.handleUnaryCall<_credits_v1_ReleaseReservationRequest__Output, _credits_v1_ReleaseReservationResponse>;
  
  ReserveCredits: grpc.handleUnaryCall<_credits_v1_ReserveCreditsRequest__Output, _credits_v1_ReserveCreditsResponse>;
  
  ResolveUser: grpc.handleUnaryCall<_credits_v1_ResolveUserRequest__Output, _credits_v1_ResolveUserResponse>;
  
  SpendCredits: grpc.handleUnaryCall<_credits_v1_SpendCreditsRequest__Output, _credits_v1_SpendCreditsResponse>;
  
}

export interface CreditsServiceDefinition extends grpc.ServiceDefinition {
  ApplyCheckout: MethodDefinition<_credits_v1_ApplyCheckoutRequest, _credits_v1_ApplyCheckoutResponse, _credits_v1_ApplyCheckoutRequest__Output, _credits_v1_ApplyCheckoutResponse__Output>
  ApplyStripeEvent: MethodDefinition<_credits_v1_ApplyStripeEventRequest, _credits_v1_ApplyStripeEventResponse, _credits_v1_ApplyStripeEventRequest__Output, _credits_v1_ApplyStripeEventResponse__Output>
  CaptureReservation: MethodDefinition<_credits_v1_CaptureReservationRequest, _credits_v1_CaptureReservationResponse, _credits_v1_CaptureReservationRequest__Output, _credits_v1_CaptureReservationResponse__Output>
  GetBalance: MethodDefinition<_credits_v1_GetBalanceRequest, _credits_v1_GetBalanceResponse, _credits_v1_GetBalanceRequest__Output, _credits_v1_GetBalanceResponse__Output>
  ListTransactions: MethodDefinition<_credits_v1_ListTransactionsRequest, _credits_v1_ListTransactionsResponse, _credits_v1_ListTransactionsRequest__Output, _credits_v1_ListTransactionsResponse__Output>
  ReleaseReservation: MethodDefinition<_credits_v1_ReleaseReservationRequest, _credits_v1_ReleaseReservationResponse, _credits_v1_ReleaseReservationRequest__Output, _credits_v1_ReleaseReservationResponse__Output>
  ReserveCredits: MethodDefinition<_credits_v1_ReserveCreditsRequest, _credits_v1_ReserveCreditsResponse, _credits_v1_ReserveCreditsRequest__Output, _credits_v1_ReserveCreditsResponse__Output>
  ResolveUser: MethodDefinition<_credits_v1_ResolveUserRequest, _credits_v1_ResolveUserResponse, _credits_v1_ResolveUserRequest__Output, _credits_v1_ResolveUserResponse__Output>
  SpendCredits: MethodDefinition<_credits_v1_SpendCreditsRequest, _credits_v1_SpendCreditsResponse, _credits_v1_SpendCreditsRequest__Output, _credits_v1_SpendCreditsResponse__Output>
}
