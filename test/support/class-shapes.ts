/**
 * Functions that use each shape of class a user writes, defined in this .ts file so that
 * the tests load them through tsx (which adds `static { __name(this, "Point") }` and
 * `__name(fn, "f")` to the output). Each takes a number and returns plain data, so a
 * remote result can be compared with the same function run locally.
 */

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  static origin(): Point {
    return new Point(0, 0);
  }
  get length(): number {
    return Math.hypot(this.x, this.y);
  }
  plus(other: Point): Point {
    return new Point(this.x + other.x, this.y + other.y);
  }
}

class Shape {
  constructor(readonly sides: number) {}
  describe(): string {
    return `${this.sides} sides`;
  }
}

class Square extends Shape {
  static k = 1;
  static readonly unit = new Square(1);
  constructor(readonly side: number) {
    super(4);
  }
  override describe(): string {
    return `square ${this.side}: ${super.describe()}, k=${Square.k}`;
  }
}

class PowerTable {
  static readonly powers: number[] = [];
  static {
    for (let k = 0; k < 5; k++) PowerTable.powers.push(2 ** k);
  }
  static sum(): number {
    return PowerTable.powers.reduce((a, b) => a + b, 0);
  }
}

class Account {
  #balance = 0;
  static #opened = 0;
  constructor() {
    Account.#opened += 1;
  }
  #check(amount: number): void {
    if (amount > this.#balance) throw new RangeError(`balance ${this.#balance} is below ${amount}`);
  }
  deposit(amount: number): this {
    this.#balance += amount;
    return this;
  }
  withdraw(amount: number): this {
    this.#check(amount);
    this.#balance -= amount;
    return this;
  }
  get balance(): number {
    return this.#balance;
  }
  static get opened(): number {
    return Account.#opened;
  }
}

class Temperature {
  #celsius = 0;
  get fahrenheit(): number {
    return (this.#celsius * 9) / 5 + 32;
  }
  set fahrenheit(value: number) {
    this.#celsius = ((value - 32) * 5) / 9;
  }
  static fromCelsius(celsius: number): Temperature {
    const t = new Temperature();
    t.fahrenheit = (celsius * 9) / 5 + 32;
    return t;
  }
}

type Constructor<T = object> = new (...args: any[]) => T;
function Tagged<Base extends Constructor>(base: Base) {
  return class extends base {
    tag = "tagged";
  };
}
class TaggedPoint extends Tagged(Point) {}

class Stack<T> extends Array<T> {
  peek(): T | undefined {
    return this[this.length - 1];
  }
}

class ValidationError extends Error {
  override name = "ValidationError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const scale = new Point(2, 3);

export const classShapes: Record<string, (n: number) => unknown> = {
  "a module-level class": (n) => {
    const p = new Point(n, n + 1).plus(Point.origin());
    return [p.x, p.y, Math.round(p.length * 1000)];
  },
  "a captured instance of a module-level class": (n) => scale.plus(new Point(n, n)).length,
  "a class declared inside the function": (n) => {
    class Counter {
      static created = 0;
      count = 0;
      constructor() {
        Counter.created += 1;
      }
      add(by: number): this {
        this.count += by;
        return this;
      }
    }
    return [new Counter().add(n).add(1).count, Counter.created];
  },
  "a derived class with a static field and super calls": (n) => [new Square(n).describe(), Square.k, Square.unit.side, Square.unit instanceof Shape],
  "a static block": (n) => PowerTable.sum() + n,
  "private fields and methods": (n) => {
    const account = new Account().deposit(n + 10).withdraw(n);
    let refused = "";
    try {
      account.withdraw(1000);
    } catch (error) {
      refused = `${(error as Error).name}: ${(error as Error).message}`;
    }
    return [account.balance, Account.opened > 0, refused];
  },
  "getters and setters": (n) => Temperature.fromCelsius(n).fahrenheit,
  "a class extending a mixin": (n) => {
    const p = new TaggedPoint(n, 1);
    return [p.tag, p.x, p instanceof Point];
  },
  "a class extending Array": (n) => {
    const stack = new Stack<number>();
    stack.push(n, n * 2);
    return [stack.peek(), stack.length, Array.isArray(stack)];
  },
  "a class extending Error": (n) => {
    const error = new ValidationError("age", `age ${n} is negative`);
    return [error.name, error.field, error.message, error instanceof Error];
  },
  "a class declared inside the function extending one declared outside": (n) => {
    class Cube extends Square {
      volume(): number {
        return this.side ** 3;
      }
    }
    return [new Cube(n).volume(), new Cube(n).describe()];
  },
};
