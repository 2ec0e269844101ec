import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_DIR } from '../paths.js';

/** The gRPC contract as its reader needs it: names, types and the comments written above each element. */
export interface ProtoField {
  name: string;
  number: number;
  /** As written in the .proto: `string`, `repeated LineItem`, `map<string, string>`. */
  type: string;
  /** Full name of the message or enum the type names, for a link. */
  typeRef?: string;
  comment: string;
}

export interface ProtoMessage {
  name: string;
  fullName: string;
  comment: string;
  fields: ProtoField[];
}

export interface ProtoEnum {
  name: string;
  fullName: string;
  comment: string;
  values: { name: string; number: number; comment: string }[];
}

export interface ProtoMethod {
  name: string;
  comment: string;
  request: string;
  response: string;
  requestStream: boolean;
  responseStream: boolean;
}

export interface ProtoService {
  name: string;
  fullName: string;
  comment: string;
  methods: ProtoMethod[];
}

export interface ProtoDocs {
  file: string;
  services: ProtoService[];
  messages: ProtoMessage[];
  enums: ProtoEnum[];
}

export const CREDITS_PROTO_FILE = 'proto/credits/v1/credits.proto';
const CREDITS_PROTO_PATH = join(PROTO_DIR, 'credits/v1/credits.proto');

// protobufjs prefixes full names with a dot.
const fullName = (object: protobuf.ReflectionObject): string => object.fullName.replace(/^\./, '');

function fieldOf(field: protobuf.Field): ProtoField {
  const target = field.resolvedType ? fullName(field.resolvedType) : undefined;
  const type = field instanceof protobuf.MapField ? `map<${field.keyType}, ${field.type}>` : field.repeated ? `repeated ${field.type}` : field.type;
  return { name: field.name, number: field.id, type, ...(target ? { typeRef: target } : {}), comment: field.comment ?? '' };
}

/** Well-known types come from protobufjs's bundled copies, without their comments: the page says what they are. */
const WELL_KNOWN_COMMENTS: Record<string, { comment: string; fields: Record<string, string> }> = {
  'google.protobuf.Timestamp': {
    comment: 'A point in time, independent of time zones (UTC); in JSON an RFC 3339 string such as `2026-12-02T10:00:00Z`.',
    fields: { seconds: 'Seconds since 1970-01-01T00:00:00Z.', nanos: 'Fractions of a second, in nanoseconds (0 to 999,999,999).' },
  },
};

function messageOf(object: protobuf.Type): ProtoMessage {
  const known = WELL_KNOWN_COMMENTS[fullName(object)];
  const fields = object.fieldsArray.map(fieldOf).map((field) => (field.comment || !known ? field : { ...field, comment: known.fields[field.name] ?? '' }));
  return { name: object.name, fullName: fullName(object), comment: object.comment ?? known?.comment ?? '', fields };
}

function collect(namespace: protobuf.NamespaceBase, docs: ProtoDocs): void {
  for (const object of namespace.nestedArray) {
    if (object instanceof protobuf.Service) {
      docs.services.push({
        name: object.name,
        fullName: fullName(object),
        comment: object.comment ?? '',
        methods: object.methodsArray.map((method) => ({
          name: method.name,
          comment: method.comment ?? '',
          request: method.resolvedRequestType ? fullName(method.resolvedRequestType) : method.requestType,
          response: method.resolvedResponseType ? fullName(method.resolvedResponseType) : method.responseType,
          requestStream: Boolean(method.requestStream),
          responseStream: Boolean(method.responseStream),
        })),
      });
    } else if (object instanceof protobuf.Type) {
      docs.messages.push(messageOf(object));
    } else if (object instanceof protobuf.Enum) {
      const comments = object.comments;
      docs.enums.push({
        name: object.name,
        fullName: fullName(object),
        comment: object.comment ?? '',
        values: Object.entries(object.values).map(([name, number]) => ({ name, number, comment: comments[name] ?? '' })),
      });
    }
    if (object instanceof protobuf.Namespace) collect(object, docs);
  }
}

/** Reads the .proto itself (not the loaded gRPC definition), because only the parser keeps the comments. */
export function loadProtoDocs(path: string = CREDITS_PROTO_PATH, file: string = CREDITS_PROTO_FILE): ProtoDocs {
  // alternateCommentMode keeps `//` comments; keepCase shows field names as written, as the loader uses them.
  const root = new protobuf.Root().loadSync(path, { keepCase: true, alternateCommentMode: true });
  root.resolveAll();
  const docs: ProtoDocs = { file, services: [], messages: [], enums: [] };
  collect(root, docs);
  return docs;
}
