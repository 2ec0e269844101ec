import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApplyCheckoutRequest as _credits_v1_ApplyCheckoutRequest, ApplyCheckoutRequest__Output as _credits_v1_ApplyCheckoutRequest__Output } from './credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse as _credits_v1_ApplyCheckoutResponse, ApplyCheckoutResponse__Output as _credits_v1_ApplyCheckoutResponse__Output } from './credits/v1/ApplyCheckoutResponse';
import type { ApplyStripeEventRequest as _credits_v1_ApplyStripeEventRequest, ApplyStripeEventRequest__Output as _credits_v1_ApplyStripeEventRequest__Output } from './credits/v1/ApplyStripeEventRequest';
import type { ApplyStripeEventResponse as _credits_v1_ApplyStripeEventResponse, ApplyStripeEventResponse__Output as _credits_v1_ApplyStripeEventResponse__Output } from './credits/v1/ApplyStripeEventResponse';
import type { CaptureReservationRequest as _credits_v1_CaptureReservationRequest, CaptureReservationRequest__Output as _credits_v1_CaptureReservationRequest__Output } from './credits/v1/CaptureReservationRequest';
import type { CaptureReservationResponse as _credits_v1_CaptureReservationResponse, CaptureReservationResponse__Output as _credits_v1_CaptureReservationResponse__Output } from './credits/v1/CaptureReservationResponse';
import type { CheckoutSession as _credits_v1_CheckoutSession, CheckoutSession__Output as _credits_v1_CheckoutSession__Output } from './credits/v1/CheckoutSession';
import type { CreditsServiceClient as _credits_v1_CreditsServiceClient, CreditsServiceDefinition as _credits_v1_CreditsServiceDefinition } from './credits/v1/CreditsService';
import type { CustomerDetails as _credits_v1_CustomerDetails, CustomerDetails__Output as _credits_v1_CustomerDetails__Output } from './credits/v1/CustomerDetails';
import type { GetBalanceRequest as _credits_v1_GetBalanceRequest, GetBalanceRequest__Output as _credits_v1_GetBalanceRequest__Output } from './credits/v1/GetBalanceRequest';
import type { GetBalanceResponse as _credits_v1_GetBalanceResponse, GetBalanceResponse__Output as _credits_v1_GetBalanceResponse__Output } from './credits/v1/GetBalanceResponse';
import type { LineItem as _credits_v1_LineItem, LineItem__Output as _credits_v1_LineItem__Output } from './credits/v1/LineItem';
import type { ListTransactionsRequest as _credits_v1_ListTransactionsRequest, ListTransactionsRequest__Output as _credits_v1_ListTransactionsRequest__Output } from './credits/v1/ListTransactionsRequest';
import type { ListTransactionsResponse as _credits_v1_ListTransactionsResponse, ListTransactionsResponse__Output as _credits_v1_ListTransactionsResponse__Output } from './credits/v1/ListTransactionsResponse';
import type { ReleaseReservationRequest as _credits_v1_ReleaseReservationRequest, ReleaseReservationRequest__Output as _credits_v1_ReleaseReservationRequest__Output } from './credits/v1/ReleaseReservationRequest';
import type { ReleaseReservationResponse as _credits_v1_ReleaseReservationResponse, ReleaseReservationResponse__Output as _credits_v1_ReleaseReservationResponse__Output } from './credits/v1/ReleaseReservationResponse';
import type { Reservation as _credits_v1_Reservation, Reservation__Output as _credits_v1_Reservation__Output } from './credits/v1/Reservation';
import type { ReserveCreditsRequest as _credits_v1_ReserveCreditsRequest, ReserveCreditsRequest__Output as _credits_v1_ReserveCreditsRequest__Output } from './credits/v1/ReserveCreditsRequest';
import type { ReserveCreditsResponse as _credits_v1_ReserveCreditsResponse, ReserveCreditsResponse__Output as _credits_v1_ReserveCreditsResponse__Output } from './credits/v1/ReserveCreditsResponse';
import type { ResolveUserRequest as _credits_v1_ResolveUserRequest, ResolveUserRequest__Output as _credits_v1_ResolveUserRequest__Output } from './credits/v1/ResolveUserRequest';
import type { ResolveUserResponse as _credits_v1_ResolveUserResponse, ResolveUserResponse__Output as _credits_v1_ResolveUserResponse__Output } from './credits/v1/ResolveUserResponse';
import type { SpendCreditsRequest as _credits_v1_SpendCreditsRequest, SpendCreditsRequest__Output as _credits_v1_SpendCreditsRequest__Output } from './credits/v1/SpendCreditsRequest';
import type { SpendCreditsResponse as _credits_v1_SpendCreditsResponse, SpendCreditsResponse__Output as _credits_v1_SpendCreditsResponse__Output } from './credits/v1/SpendCreditsResponse';
import type { Transaction as _credits_v1_Transaction, Transaction__Output as _credits_v1_Transaction__Output } from './credits/v1/Transaction';
import type { User as _credits_v1_User, User__Output as _credits_v1_User__Output } from './credits/v1/User';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  credits: {
    v1: {
      ApplyCheckoutOutcome: EnumTypeDefinition
      ApplyCheckoutRequest: MessageTypeDefinition<_credits_v1_ApplyCheckoutRequest, _credits_v1_ApplyCheckoutRequest__Output>
      ApplyCheckoutResponse: MessageTypeDefinition<_credits_v1_ApplyCheckoutResponse, _credits_v1_ApplyCheckoutResponse__Output>
      ApplyStripeEventOutcome: EnumTypeDefinition
      ApplyStripeEventRequest: MessageTypeDefinition<_credits_v1_ApplyStripeEventRequest, _credits_v1_ApplyStripeEventRequest__Output>
      ApplyStripeEventResponse: MessageTypeDefinition<_credits_v1_ApplyStripeEventResponse, _credits_v1_ApplyStripeEventResponse__Output>
      CaptureReservationRequest: MessageTypeDefinition<_credits_v1_CaptureReservationRequest, _credits_v1_CaptureReservationRequest__Output>
      CaptureReservationResponse: MessageTypeDefinition<_credits_v1_CaptureReservationResponse, _credits_v1_CaptureReservationResponse__Output>
      CheckoutSession: MessageTypeDefinition<_credits_v1_CheckoutSession, _credits_v1_CheckoutSession__Output>
      CreditsService: SubtypeConstructor<typeof grpc.Client, _credits_v1_CreditsServiceClient> & { service: _credits_v1_CreditsServiceDefinition }
      CustomerDetails: MessageTypeDefinition<_credits_v1_CustomerDetails, _credits_v1_CustomerDetails__Output>
      GetBalanceRequest: MessageTypeDefinition<_credits_v1_GetBalanceRequest, _credits_v1_GetBalanceRequest__Output>
      GetBalanceResponse: MessageTypeDefinition<_credits_v1_GetBalanceResponse, _credits_v1_GetBalanceResponse__Output>
      LineItem: MessageTypeDefinition<_credits_v1_LineItem, _credits_v1_LineItem__Output>
      ListTransactionsRequest: MessageTypeDefinition<_credits_v1_ListTransactionsRequest, _credits_v1_ListTransactionsRequest__Output>
      ListTransactionsResponse: MessageTypeDefinition<_credits_v1_ListTransactionsResponse, _credits_v1_ListTransactionsResponse__Output>
      MatchKind: EnumTypeDefinition
      ReleaseReservationRequest: MessageTypeDefinition<_credits_v1_ReleaseReservationRequest, _credits_v1_ReleaseReservationRequest__Output>
      ReleaseReservationResponse: MessageTypeDefinition<_credits_v1_ReleaseReservationResponse, _credits_v1_ReleaseReservationResponse__Output>
      Reservation: MessageTypeDefinition<_credits_v1_Reservation, _credits_v1_Reservation__Output>
      ReservationStatus: EnumTypeDefinition
      ReserveCreditsRequest: MessageTypeDefinition<_credits_v1_ReserveCreditsRequest, _credits_v1_ReserveCreditsRequest__Output>
      ReserveCreditsResponse: MessageTypeDefinition<_credits_v1_ReserveCreditsResponse, _credits_v1_ReserveCreditsResponse__Output>
      ResolveUserRequest: MessageTypeDefinition<_credits_v1_ResolveUserRequest, _credits_v1_ResolveUserRequest__Output>
      ResolveUserResponse: MessageTypeDefinition<_credits_v1_ResolveUserResponse, _credits_v1_ResolveUserResponse__Output>
      SpendCreditsRequest: MessageTypeDefinition<_credits_v1_SpendCreditsRequest, _credits_v1_SpendCreditsRequest__Output>
      SpendCreditsResponse: MessageTypeDefinition<_credits_v1_SpendCreditsResponse, _credits_v1_SpendCreditsResponse__Output>
      Transaction: MessageTypeDefinition<_credits_v1_Transaction, _credits_v1_Transaction__Output>
      TransactionKind: EnumTypeDefinition
      User: MessageTypeDefinition<_credits_v1_User, _credits_v1_User__Output>
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

