import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApplyCheckoutRequest as _credits_v1_ApplyCheckoutRequest, ApplyCheckoutRequest__Output as _credits_v1_ApplyCheckoutRequest__Output } from './credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse as _credits_v1_ApplyCheckoutResponse, ApplyCheckoutResponse__Output as _credits_v1_ApplyCheckoutResponse__Output } from './credits/v1/ApplyCheckoutResponse';
import type { CheckoutSession as _credits_v1_CheckoutSession, CheckoutSession__Output as _credits_v1_CheckoutSession__Output } from './credits/v1/CheckoutSession';
import type { CreditsServiceClient as _credits_v1_CreditsServiceClient, CreditsServiceDefinition as _credits_v1_CreditsServiceDefinition } from './credits/v1/CreditsService';
import type { CustomerDetails as _credits_v1_CustomerDetails, CustomerDetails__Output as _credits_v1_CustomerDetails__Output } from './credits/v1/CustomerDetails';
import type { GetBalanceRequest as _credits_v1_GetBalanceRequest, GetBalanceRequest__Output as _credits_v1_GetBalanceRequest__Output } from './credits/v1/GetBalanceRequest';
import type { GetBalanceResponse as _credits_v1_GetBalanceResponse, GetBalanceResponse__Output as _credits_v1_GetBalanceResponse__Output } from './credits/v1/GetBalanceResponse';
import type { LineItem as _credits_v1_LineItem, LineItem__Output as _credits_v1_LineItem__Output } from './credits/v1/LineItem';
import type { ResolveUserRequest as _credits_v1_ResolveUserRequest, ResolveUserRequest__Output as _credits_v1_ResolveUserRequest__Output } from './credits/v1/ResolveUserRequest';
import type { ResolveUserResponse as _credits_v1_ResolveUserResponse, ResolveUserResponse__Output as _credits_v1_ResolveUserResponse__Output } from './credits/v1/ResolveUserResponse';
import type { User as _credits_v1_User, User__Output as _credits_v1_User__Output } from './credits/v1/User';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  credits: {
    v1: {
      ApplyCheckoutOutcome: EnumTypeDefinition
      ApplyCheckoutRequest: MessageTypeDefinition<_credits_v1_ApplyCheckoutRequest, _credits_v1_ApplyCheckoutRequest__Output>
      ApplyCheckoutResponse: MessageTypeDefinition<_credits_v1_ApplyCheckoutResponse, _credits_v1_ApplyCheckoutResponse__Output>
      CheckoutSession: MessageTypeDefinition<_credits_v1_CheckoutSession, _credits_v1_CheckoutSession__Output>
      CreditsService: SubtypeConstructor<typeof grpc.Client, _credits_v1_CreditsServiceClient> & { service: _credits_v1_CreditsServiceDefinition }
      CustomerDetails: MessageTypeDefinition<_credits_v1_CustomerDetails, _credits_v1_CustomerDetails__Output>
      GetBalanceRequest: MessageTypeDefinition<_credits_v1_GetBalanceRequest, _credits_v1_GetBalanceRequest__Output>
      GetBalanceResponse: MessageTypeDefinition<_credits_v1_GetBalanceResponse, _credits_v1_GetBalanceResponse__Output>
      LineItem: MessageTypeDefinition<_credits_v1_LineItem, _credits_v1_LineItem__Output>
      MatchKind: EnumTypeDefinition
      ResolveUserRequest: MessageTypeDefinition<_credits_v1_ResolveUserRequest, _credits_v1_ResolveUserRequest__Output>
      ResolveUserResponse: MessageTypeDefinition<_credits_v1_ResolveUserResponse, _credits_v1_ResolveUserResponse__Output>
      User: MessageTypeDefinition<_credits_v1_User, _credits_v1_User__Output>
    }
  }
}

