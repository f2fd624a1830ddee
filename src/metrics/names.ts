// Common English first names and surnames (US/UK), used by pii.ts to spot personal names.
// Names that are also everyday English words and often start a sentence are left out on purpose
// (Will, May, June, April, August, Mark, Bill, Rose, Hope, Grace, Joy, Faith, Art, Sue, Frank,
// Pat, Ray, Guy, Dawn, Young, Long, King, Little, White, Black, Green, Gray, Hall, Hill, Wood,
// Cook, Baker, Bell, Price, Rice, Stone, Lane, Page, Ward, Hunt, Read, Rich, Summer), since every
// Title-case occurrence of a listed word counts as a name.

export const FIRST_NAMES: readonly string[] = [
  // male
  'James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard', 'Joseph', 'Thomas',
  'Charles', 'Christopher', 'Daniel', 'Matthew', 'Anthony', 'Donald', 'Steven', 'Paul', 'Andrew',
  'Joshua', 'Kenneth', 'Kevin', 'Brian', 'George', 'Timothy', 'Ronald', 'Edward', 'Jason',
  'Jeffrey', 'Ryan', 'Jacob', 'Gary', 'Nicholas', 'Eric', 'Jonathan', 'Stephen', 'Larry',
  'Justin', 'Scott', 'Brandon', 'Benjamin', 'Samuel', 'Gregory', 'Alexander', 'Patrick', 'Jack',
  'Dennis', 'Jerry', 'Tyler', 'Aaron', 'Jose', 'Adam', 'Nathan', 'Henry', 'Peter', 'Zachary',
  'Douglas', 'Harold', 'Kyle', 'Noah', 'Oliver', 'Harry', 'Charlie', 'Tom', 'Tim', 'Ben', 'Sam',
  'Alex', 'Max', 'Leo', 'Oscar', 'Arthur', 'Alfie', 'Freddie', 'Theo', 'Liam', 'Ethan', 'Lucas',
  'Mason', 'Logan', 'Owen', 'Luke', 'Simon', 'Ian', 'Neil', 'Stuart', 'Graham', 'Colin', 'Martin',
  'Philip', 'Nigel', 'Gavin', 'Dylan', 'Connor', 'Sean', 'Kieran', 'Mohammed', 'Muhammad', 'Ali',
  'Bob', 'Jim', 'Joe', 'Mike', 'Steve', 'Dave', 'Chris', 'Matt', 'Dan', 'Tony', 'Jake', 'Ted',
  // female
  'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah',
  'Karen', 'Nancy', 'Lisa', 'Betty', 'Margaret', 'Sandra', 'Ashley', 'Kimberly', 'Emily', 'Donna',
  'Michelle', 'Dorothy', 'Carol', 'Amanda', 'Melissa', 'Deborah', 'Stephanie', 'Rebecca',
  'Sharon', 'Laura', 'Cynthia', 'Kathleen', 'Amy', 'Shirley', 'Angela', 'Helen', 'Anna', 'Brenda',
  'Pamela', 'Nicole', 'Emma', 'Samantha', 'Katherine', 'Christine', 'Debra', 'Rachel', 'Catherine',
  'Carolyn', 'Janet', 'Ruth', 'Maria', 'Heather', 'Diane', 'Virginia', 'Julie', 'Joyce',
  'Victoria', 'Olivia', 'Kelly', 'Christina', 'Lauren', 'Joan', 'Evelyn', 'Judith', 'Megan',
  'Andrea', 'Cheryl', 'Hannah', 'Jacqueline', 'Martha', 'Gloria', 'Teresa', 'Ann', 'Anne', 'Sara',
  'Madison', 'Frances', 'Kathryn', 'Janice', 'Jean', 'Abigail', 'Alice', 'Judy', 'Sophia', 'Julia',
  'Amelia', 'Isla', 'Ava', 'Mia', 'Isabella', 'Lily', 'Ella', 'Chloe', 'Sophie', 'Lucy',
  'Charlotte', 'Poppy', 'Ruby', 'Holly', 'Jane', 'Kate', 'Claire', 'Fiona', 'Gemma', 'Zoe', 'Tina',
  'Tracy', 'Jenny', 'Ellie', 'Freya', 'Molly', 'Daisy', 'Sally', 'Wendy', 'Diana',
];

export const SURNAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Jones', 'Brown', 'Miller', 'Davis', 'Garcia', 'Rodriguez',
  'Wilson', 'Martinez', 'Anderson', 'Taylor', 'Thomas', 'Hernandez', 'Moore', 'Jackson',
  'Thompson', 'Lopez', 'Lee', 'Gonzalez', 'Harris', 'Clark', 'Lewis', 'Robinson', 'Walker', 'Perez',
  'Allen', 'Sanchez', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Adams', 'Nelson', 'Mitchell',
  'Roberts', 'Carter', 'Phillips', 'Evans', 'Turner', 'Parker', 'Collins', 'Edwards', 'Stewart',
  'Morris', 'Murphy', 'Rogers', 'Morgan', 'Peterson', 'Cooper', 'Reed', 'Bailey', 'Kelly',
  'Howard', 'Cox', 'Richardson', 'Watson', 'Brooks', 'Bennett', 'James', 'Hughes', 'Sanders',
  'Myers', 'Foster', 'Powell', 'Jenkins', 'Perry', 'Russell', 'Sullivan', 'Butler', 'Barnes',
  'Fisher', 'Henderson', 'Coleman', 'Simmons', 'Patterson', 'Jordan', 'Reynolds', 'Hamilton',
  'Graham', 'Wallace', 'Campbell', 'Davies', 'Patel', 'Khan', 'Singh', 'Walsh', 'Murray',
  'Kennedy', 'Doe', 'Robertson', 'Thomson', 'MacDonald', 'McDonald', 'Fletcher', 'Chapman',
  'Lloyd', 'Harrison', 'Marshall', 'Ellis', 'Hunter', "O'Brien", "O'Connor", 'Gallagher',
  'Wilkinson', 'Atkinson', 'Shaw', 'Holmes', 'Palmer', 'Webb', 'Griffiths', 'Owens',
];
