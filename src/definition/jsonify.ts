/**
 * The type a value has after a round trip through JSON (a step output is stored
 * as jsonb and handed to dependents parsed): `Date` becomes `string`, functions
 * and symbols disappear, `undefined` properties become optional, `undefined`
 * array elements become `null`.
 */

type JsonPrimitive = string | number | boolean | null;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any function is dropped
type Dropped = Function | symbol | undefined;

type IsAny<T> = 0 extends 1 & T ? true : false;

/** A value's type after `JSON.parse(JSON.stringify(value))`. `void`/`undefined` become `null`. */
export type Jsonify<T> =
  IsAny<T> extends true
    ? unknown
    : unknown extends T
      ? unknown
      : T extends JsonPrimitive
        ? T
        : T extends undefined | void
          ? null
          : T extends { toJSON(...args: never[]): infer J }
            ? Jsonify<J>
            : T extends Dropped | bigint
              ? never
              : T extends readonly unknown[]
                ? { -readonly [K in keyof T]: JsonifyElement<T[K]> }
                : T extends object
                  ? JsonifyObject<T>
                  : never;

type JsonifyElement<T> = T extends Dropped ? null : Jsonify<T>;

type KeptKey<T, K extends keyof T> = K extends string | number
  ? [Exclude<T[K], undefined>] extends [never]
    ? never
    : [Exclude<T[K], undefined>] extends [Dropped]
      ? never
      : K
  : never;

type RequiredKeys<T> = {
  [K in keyof T]-?: undefined extends T[K] ? never : KeptKey<T, K>;
}[keyof T];
type OptionalKeys<T> = {
  [K in keyof T]-?: undefined extends T[K] ? KeptKey<T, K> : never;
}[keyof T];

type JsonifyObject<T> = {
  [K in RequiredKeys<T>]: Jsonify<T[K]>;
} & {
  [K in OptionalKeys<T>]?: Jsonify<Exclude<T[K], undefined>>;
} extends infer O
  ? { [K in keyof O]: O[K] }
  : never;
