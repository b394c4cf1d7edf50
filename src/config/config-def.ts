/**
 * Typed config definitions shared by broker and topic configs. Values travel as strings (that is how
 * Kafka's config APIs and server.properties carry them); `parseConfigValue` turns one into its typed
 * form or explains why it is invalid, in the wording Kafka users know.
 */
export type ConfigType = "int" | "long" | "double" | "boolean" | "string" | "list" | "password";

export type ConfigValue = number | boolean | string | string[] | null;

export interface ConfigDef {
  name: string;
  type: ConfigType;
  /** Default as Kafka documents it; null means "no value". */
  defaultValue: string | null;
  min?: number;
  max?: number;
  /** Allowed values for string (and each element of list) configs. */
  oneOf?: readonly string[];
  doc: string;
}

export const LONG_MAX = 9223372036854775807; // Kafka's Long.MAX_VALUE sentinel (rounded as a JS number).
export const LONG_MAX_STRING = "9223372036854775807";

export function parseConfigValue(def: ConfigDef, raw: string | null): { value: ConfigValue } | { error: string } {
  if (raw === null) return { value: null };
  const text = raw.trim();
  const invalid = (why: string) => ({ error: `Invalid value ${raw} for configuration ${def.name}: ${why}` });
  switch (def.type) {
    case "int":
    case "long": {
      if (!/^[+-]?\d+$/.test(text)) return invalid(`Not a number of type ${def.type.toUpperCase()}`);
      const big = BigInt(text);
      const [lo, hi] = def.type === "int" ? [-(2n ** 31n), 2n ** 31n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (big < lo || big > hi) return invalid(`Not a number of type ${def.type.toUpperCase()}`);
      const n = Number(big);
      if (def.min !== undefined && n < def.min) return invalid(`Value must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) return invalid(`Value must be no more than ${def.max}`);
      return { value: n };
    }
    case "double": {
      const n = Number(text);
      if (text === "" || !Number.isFinite(n)) return invalid("Not a number of type DOUBLE");
      if (def.min !== undefined && n < def.min) return invalid(`Value must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) return invalid(`Value must be no more than ${def.max}`);
      return { value: n };
    }
    case "boolean": {
      const lower = text.toLowerCase();
      if (lower !== "true" && lower !== "false") return invalid("Expected value to be either true or false");
      return { value: lower === "true" };
    }
    case "list": {
      const items = text === "" ? [] : text.split(",").map((s) => s.trim());
      if (def.oneOf) {
        const bad = items.find((i) => !def.oneOf!.includes(i));
        if (bad !== undefined) return invalid(`String must be one of: ${def.oneOf.join(", ")}`);
      }
      return { value: items };
    }
    case "string":
    case "password": {
      if (def.oneOf && !def.oneOf.includes(text)) return invalid(`String must be one of: ${def.oneOf.join(", ")}`);
      return { value: text };
    }
  }
}

/** Kafka's DescribeConfigs config types (the ConfigType field in DescribeConfigs v3+). */
export function describeConfigType(type: ConfigType): number {
  switch (type) {
    case "boolean":
      return 1;
    case "string":
      return 2;
    case "int":
      return 3;
    case "long":
      return 5;
    case "double":
      return 6;
    case "list":
      return 7;
    case "password":
      return 9;
  }
}
